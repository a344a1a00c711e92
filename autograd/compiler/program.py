"""A compiled program: one recorded graph, run on new inputs by the numpy or the float backend.

``Program(graph)`` schedules the graph and builds the backends; with ``backend='auto'`` a
graph small enough for straight-line float code is timed both ways and the faster kept.
``run(inputs, params)`` gives the output (or None when a guard failed: the data took the
other side of a recorded branch). A domain error (log of 0, exp overflow) is raised as the
engine's own error for the element that failed, naming the op, its operands and the sample.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .batched import BatchedCode
from .record import COMPARE, Graph
from .schedule import schedule
from .straight import FloatCode
from .texts import OpText

__all__ = ["Program", "BACKENDS", "FLOAT_LIMIT"]

BACKENDS = ("auto", "numpy", "floats")
FLOAT_LIMIT = 3000
"""Graphs with at most this many ops are also tried as straight-line float code (``auto``)."""

_ERRSTATE = {"divide": "raise", "over": "raise", "invalid": "raise", "under": "ignore"}
_CAUGHT = (ArithmeticError, ValueError)


class Failed(Exception):
    """A replay hit an error the engine would raise; ``error`` is that error, with the sample."""

    def __init__(self, error: Exception, phase: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.phase = phase


class Program:
    """One recorded graph, ready to replay; ``backend`` is ``'numpy'`` or ``'floats'``."""

    def __init__(self, graph: Graph, backend: str = "auto") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"compile: backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.graph = graph
        self.sched = schedule(graph)
        self._floats: FloatCode | None = None
        self._batched: BatchedCode | None = None
        self._guards = self._guard_arrays()
        if backend == "auto":
            backend = "floats" if graph.ops <= FLOAT_LIMIT and self._floats_faster() else "numpy"
        self.backend = backend
        self.code = self.batched if backend == "numpy" else self.floats

    # -- the two backends, built when first needed -------------------------------------------
    @property
    def floats(self) -> FloatCode:
        if self._floats is None:
            self._floats = FloatCode(self.graph)
        return self._floats

    @property
    def batched(self) -> BatchedCode:
        if self._batched is None:
            self._batched = BatchedCode(self.sched)
        return self._batched

    @property
    def source(self) -> str:
        """The recorded graph as straight-line Python: forward, then backward by the chain rule."""
        if self._floats is not None:
            return self._floats.source
        return FloatCode(self.graph, build=False).source

    def _floats_faster(self) -> bool:
        """Time one step of each backend on the recorded data; True when floats win."""
        g = self.graph
        inputs = np.empty(g.n_inputs)
        nodes = np.flatnonzero(g.input_slot >= 0)
        inputs[g.input_slot[nodes]] = [g.value[i] for i in nodes.tolist()]
        params = [g.value[i] for i in g.param_nodes.tolist()]
        timings = {}
        for name, run in (("floats", self._run_floats), ("numpy", self._run_batched)):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                try:
                    out = run(inputs, params)
                    if out is not None:
                        out[2]()
                except Failed:
                    return False
                best = min(best, time.perf_counter() - start)
            timings[name] = best
        return timings["floats"] < timings["numpy"]

    # -- running -----------------------------------------------------------------------------
    def run(self, inputs: np.ndarray, params: list[float]) -> tuple[float, list, Callable[[], list]] | None:
        """(output, extra outputs, a function giving the parameters' gradients), or None on a
        failed guard. Raises Failed for an error the engine would raise."""
        if self.backend == "floats":
            return self._run_floats(inputs, params)
        return self._run_batched(inputs, params)

    def _run_batched(self, inputs: np.ndarray, params: list[float]) -> Any:
        code = self.batched
        with np.errstate(**_ERRSTATE):
            try:
                V = code.forward(inputs, params)
            except (FloatingPointError, *_CAUGHT) as err:
                raise self._locate_batched(err, V=None, inputs=inputs, params=params) from None
        if not self._guards_hold(V):
            return None
        aux = [V[self.sched.position[ids]] for ids in self.graph.aux]

        def gradients() -> list[float]:
            with np.errstate(**_ERRSTATE):
                try:
                    return code.backward(V).tolist()
                except (FloatingPointError, *_CAUGHT) as err:
                    raise self._locate_batched(err, V=V, inputs=inputs, params=params) from None

        return float(V[self.sched.position[self.graph.root]]), aux, gradients

    def _run_floats(self, inputs: np.ndarray, params: list[float]) -> Any:
        code = self.floats
        try:
            result = code.forward(inputs.tolist() if isinstance(inputs, np.ndarray) else inputs, params)
        except _CAUGHT as err:
            raise self._locate_floats(err) from None
        if result is None:
            return None
        out, aux, state = result

        def gradients() -> list[float]:
            try:
                return list(code.backward(state))
            except _CAUGHT as err:
                raise self._locate_floats(err) from None

        shaped = [np.array(a, dtype=float).reshape(ids.shape) for a, ids in zip(aux, self.graph.aux)]
        return out, shaped, gradients

    # -- guards ------------------------------------------------------------------------------
    def _guard_arrays(self) -> list[tuple[Callable, np.ndarray, np.ndarray, np.ndarray]]:
        by_op: dict[str, list] = {}
        for guard in self.graph.guards:
            by_op.setdefault(guard.op, []).append(guard)
        pos = self.sched.position
        return [(COMPARE[op], pos[[gd.lhs for gd in gs]], pos[[gd.rhs for gd in gs]],
                 np.array([gd.expected for gd in gs])) for op, gs in by_op.items()]

    def _guards_hold(self, V: np.ndarray) -> bool:
        return all(np.array_equal(compare(V[lhs], V[rhs]), expected)
                   for compare, lhs, rhs, expected in self._guards)

    # -- errors ------------------------------------------------------------------------------
    def _locate_batched(self, err: Exception, V: Any, inputs: Any, params: Any) -> Exception:
        """The engine's error for the first element of the failing group, or a re-run on floats."""
        tb = err.__traceback__
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.batched.filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        hit = self.batched.line_group.get(line) if line is not None else None
        if hit is None:
            return err
        # Find the element on floats: run the straight-line code, whose errors name a node.
        try:
            result = self.floats.forward(np.asarray(inputs).tolist(), list(params))
            if result is not None and hit[0] == "backward":
                self.floats.backward(result[2])
        except _CAUGHT as found:
            return self._locate_floats(found)
        return Failed(err, hit[0])  # numpy raised where floats do not (e.g. overflow in a product)

    def _locate_floats(self, err: Exception) -> Failed:
        tb, line, local = err.__traceback__, None, {}
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.floats.filename:
                line, local = tb.tb_lineno, tb.tb_frame.f_locals
            tb = tb.tb_next
        hit = self.floats.line_node.get(line) if line is not None else None
        if hit is None:
            return Failed(err, "forward")
        phase, node = hit
        return Failed(type(err)(self.describe(node, phase, err, local)), phase)

    def describe(self, node: int, phase: str, err: Exception, local: dict[str, Any]) -> str:
        """``err``'s message with the op, its operands' values and the sample of the batch."""
        g, names = self.graph, self.floats.names
        text: OpText = g.text[node]
        operands = [("a", g.a[node])] + ([("b", g.b[node])] if g.b[node] >= 0 else [])
        values = ", ".join(f"{n} = {local.get(names[i], g.value[i])!r}" for n, i in operands)
        label = f" (labelled {g.label[node]!r})" if g.label[node] else ""
        where = g.describe_sample(g.sample[node]) or "no single sample of the batch"
        step = "the local derivative of " if phase == "backward" else ""
        return f"compiled step: {step}op {text.name!r}{label} with {values}, at {where}: {err}"
