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
from functools import cache
from typing import Any

import numpy as np

from ..rules import FLOAT_NAMES
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


@cache
def _numpy_call_seconds() -> float:
    """The time of one small numpy operation (a gather and a product) on this machine."""
    V, i = np.ones(64), np.arange(0, 64, 2)
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        V.take(i) * V.take(i)
        best = min(best, time.perf_counter() - start)
    return best / 3


class Failed(Exception):
    """A replay hit an error the engine would raise; ``error`` is that error, with the sample."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


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
        """Measure a step of each backend on the recorded data; True when floats win.

        The float code is timed first; when it already beats the least the numpy backend can
        cost, numpy is not built: a group makes at least eight numpy calls (gathers, the rule,
        the write; forward and backward), each at least the time of a small one on this machine
        (timed once per process)."""
        g = self.graph
        inputs = np.empty(g.n_inputs)
        nodes = np.flatnonzero(g.input_slot >= 0)
        inputs[g.input_slot[nodes]] = [g.value[i] for i in nodes.tolist()]
        params = [g.value[i] for i in g.param_nodes.tolist()]
        floats = self._best_time(self._run_floats, inputs.tolist(), params)
        if floats < 8 * len(self.sched.groups) * _numpy_call_seconds():
            return True
        return floats < self._best_time(self._run_batched, inputs, params)

    @staticmethod
    def _best_time(run: Callable, inputs: Any, params: list[float]) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            try:
                out = run(inputs, params)
                if out is not None:
                    out[2]()
            except Failed:
                return float("inf")
            best = min(best, time.perf_counter() - start)
        return best

    # -- running -----------------------------------------------------------------------------
    def flatten(self, args: tuple) -> Any:
        """The arguments' numbers in recording order: a list for floats, an array for numpy."""
        parts = []
        for k, arg in enumerate(args):
            arr = np.asarray(arg)
            if arr.dtype.kind not in "iuf":
                raise TypeError(f"compiled call: argument {k} ({self.graph.arg_names[k]}) must hold real "
                                f"numbers, got dtype {arr.dtype}")
            parts.append(arr.reshape(-1))
        if self.backend == "floats":
            return [x for part in parts for x in part.tolist()] if len(parts) != 1 else parts[0].tolist()
        if not parts:
            return np.empty(0)
        return np.concatenate(parts).astype(float, copy=False) if len(parts) > 1 else parts[0].astype(float)

    def run(self, inputs: np.ndarray, params: list[float]) -> tuple[float, list, Callable[[], list]] | None:
        """(output, extra outputs, a function giving the parameters' gradients), or None on a
        failed guard. Raises Failed for an error the engine would raise."""
        if self.backend == "floats":
            return self._run_floats(inputs, params)
        return self._run_batched(inputs, params)

    def _run_batched(self, inputs: np.ndarray, params: list[float]) -> Any:
        code = self.batched
        V = np.empty(self.sched.size)
        with np.errstate(**_ERRSTATE):
            try:
                code.forward(inputs, params, V)
            except (FloatingPointError, *_CAUGHT) as err:
                raise self._locate_batched(err, V) from None
        if self._guards and not self._guards_hold(V):
            return None
        aux = [V[self.sched.position[ids]] for ids in self.graph.aux]

        def gradients() -> list[float]:
            G = np.zeros(self.sched.size)
            with np.errstate(**_ERRSTATE):
                try:
                    return code.backward(V, G).tolist()
                except (FloatingPointError, *_CAUGHT) as err:
                    raise self._locate_batched(err, V) from None

        return float(V[self.sched.position[self.graph.root]]), aux, gradients

    def _run_floats(self, inputs: Any, params: list[float]) -> Any:
        code = self.floats
        try:
            result = code.forward(inputs, params)
        except _CAUGHT as err:
            raise self._locate_floats(err) from None
        if result is None:
            return None
        out, aux, state = result

        def gradients() -> list[float]:
            try:
                return code.backward(state)
            except _CAUGHT as err:
                raise self._locate_floats(err) from None

        if aux:
            aux = [np.array(a, dtype=float).reshape(ids.shape) for a, ids in zip(aux, self.graph.aux)]
        return out, aux, gradients

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
    def _locate_batched(self, err: Exception, V: np.ndarray) -> Failed:
        """The engine's error for the first element of the failing group that raises on floats.

        Only rule ops can fail on floats; if none does (numpy overflowed in a product or a sum,
        where floats give inf), the error is returned as it is and the caller lets the engine
        decide."""
        tb, line = err.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.batched.filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        phase, group = self.batched.line_group.get(line, ("forward", None))
        if group is None or group.kind != "op":
            return Failed(err)
        g, pos, text = self.graph, self.sched.position, group.text
        names = dict(FLOAT_NAMES)
        for node, a, b in zip(group.nodes.tolist(), group.a.tolist(),
                              group.b.tolist() if len(group.b) else [-1] * len(group.nodes)):
            env = {"a": float(V[pos[a]]), "p": g.p[node]}
            if b >= 0:
                env["b"] = float(V[pos[b]])
            try:
                if phase == "forward":
                    eval(text.forward, names, env)  # the rule's own text, on floats
                else:
                    env["out"] = float(V[pos[node]])
                    for derivative in text.derivatives:
                        eval(derivative, names, env)
            except _CAUGHT as found:
                values = {k: v for k, v in env.items() if k in ("a", "b")}
                return Failed(type(found)(self.describe(node, phase, found, values)))
        return Failed(err)

    def _locate_floats(self, err: Exception) -> Failed:
        tb, line, local = err.__traceback__, None, {}
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.floats.filename:
                line, local = tb.tb_lineno, tb.tb_frame.f_locals
            tb = tb.tb_next
        hit = self.floats.line_node.get(line) if line is not None else None
        if hit is None:
            return Failed(err)
        phase, node = hit
        g, names = self.graph, self.floats.names
        values = {"a": local.get(names[g.a[node]], g.value[g.a[node]])}
        if g.b[node] >= 0:
            values["b"] = local.get(names[g.b[node]], g.value[g.b[node]])
        return Failed(type(err)(self.describe(node, phase, err, values)))

    def describe(self, node: int, phase: str, err: Exception, values: dict[str, float]) -> str:
        """``err``'s message with the op, its operands' values and the sample of the batch."""
        g = self.graph
        text: OpText = g.text[node]
        shown = ", ".join(f"{k} = {v!r}" for k, v in values.items())
        label = f" (labelled {g.label[node]!r})" if g.label[node] else ""
        where = g.describe_sample(g.sample[node]) or "no single sample of the batch"
        step = "the local derivative of " if phase == "backward" else ""
        return f"compiled step: {step}op {text.name!r}{label} with {shown}, at {where}: {err}"
