"""``compile(fn)``: record a step written with Values once, replay it as one batched program.

    >>> import numpy as np
    >>> from chainrule.autograd import Value, compile
    >>> w = Value(0.5, label="w")
    >>> step = compile(lambda X, y: sum(((w * x - t) ** 2 for x, t in zip(X, y)), Value(0.0)))
    >>> out = step(np.array([1.0, 2.0]), np.array([1.0, 0.0]))   # records
    >>> out = step(np.array([3.0, 4.0]), np.array([0.0, 1.0]))   # replays on new data
    >>> out.backward(); round(out.data, 6), round(w.grad, 6)
    (3.25, 17.0)

The first call with given argument shapes runs ``fn`` on leaf Values (an object array of them
for each array argument, a Value for each number) and records the graph; later calls with
the same shapes replay it on the new arguments and the parameters' current ``.data``. See
``Compiled`` for the rules: what is a parameter, what is a constant, how branches are guarded.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..value import Value
from .program import BACKENDS, Failed, Program
from .record import CompileError, _leaves, record, record_root
from .straight import FloatCode

__all__ = ["compile", "Compiled", "CompiledOutput", "CompileError", "Listing", "listing"]

Key = tuple[Any, ...]


class CompiledOutput:
    """What a compiled call returns: ``data`` (the float output), ``aux`` (the data of any extra
    outputs ``fn`` returned, as float arrays) and ``backward()``, which adds d(output)/d(p) to
    ``p.grad`` for every parameter ``p``, as ``fn(*args).backward()`` would."""

    __slots__ = ("data", "aux", "recorded", "_root", "_params", "_gradients", "_grads")

    def __init__(self, data: float, aux: list, root: Value | None = None, params: list[Value] | None = None,
                 gradients: Callable[[], list[float]] | None = None) -> None:
        self.data = data
        self.aux = aux
        self.recorded = root is not None
        self._root, self._params, self._gradients, self._grads = root, params, gradients, None

    def backward(self) -> None:
        """Accumulate this output's gradient into every parameter's ``.grad`` (call zero_grad first)."""
        if self._root is not None:
            self._root.backward()
            return
        if self._grads is None:
            try:
                self._grads = self._gradients()
            except Failed as failed:
                raise failed.error from None
        for p, g in zip(self._params, self._grads):
            p.grad += g

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        return f"CompiledOutput(data={self.data!r}, {'recorded' if self.recorded else 'replayed'})"


def _arg_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in range(n)]


def _key(args: tuple) -> Key:
    return tuple([a.shape if type(a) is np.ndarray else np.shape(a) if isinstance(a, (list, tuple)) else None
                  for a in args])


class Compiled:
    """A function of Values, recorded once per argument shapes and replayed as a program.

    - **Inputs** are the arguments: numbers, or float arrays (a batch ``X`` of shape
      ``(n, features)``, targets ``y``). While recording, ``fn`` receives a Value for a number
      and an object array of leaf Values (labelled ``X[i,j]``) for an array.
    - **Parameters** are the other leaf Values ``fn`` reaches (a model's weights): every call
      reads their current ``.data``, and ``backward()`` adds to their ``.grad``.
    - **Constants**: plain numbers inside ``fn`` (the 2 in ``2 * x``, a learning rate read from
      a closure) are fixed at recording, as in ``jax.jit``.
    - **Branches**: a comparison of Values (``v > 0``, ``max(v, w)``, ``sorted``) is re-checked
      on every call; when the new data goes the other way, the call records again (counted in
      ``stats['rerecorded']``). ``bool(v)`` is refused (CompileError naming file and line).
      A branch on ``v.data`` (a plain float) cannot be seen and is fixed at recording:
      compare the Values instead. Comparisons are noted per thread, so several threads may
      record at once.
    - **Errors**: a domain error on replay (log of 0, exp overflow) is the engine's error,
      naming the op, its operands and the sample (``X[i]``) it happened in.

    ``fn`` returns the scalar Value to differentiate, or a tuple of it and extra outputs
    (Values, or lists or arrays of Values) whose data the call returns in ``out.aux``.
    Ops written as plain functions rather than formula text run only uncompiled
    (CompileError on recording).
    """

    def __init__(self, fn: Callable[..., Any], backend: str = "auto") -> None:
        if not callable(fn):
            raise TypeError(f"compile: expected a function, got {type(fn).__name__}")
        if backend not in BACKENDS:
            raise ValueError(f"compile: backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.fn = fn
        self.backend = backend
        self.programs: dict[Key, Program] = {}
        self.program: Program | None = None
        self.stats = {"recorded": 0, "replayed": 0, "rerecorded": 0, "fallbacks": 0}
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__name__ = getattr(fn, "__name__", "compiled")

    def __call__(self, *args: Any) -> CompiledOutput:
        key = _key(args)
        program = self.programs.get(key)
        if program is None:
            return self._record(args, key)
        inputs = program.flatten(args)
        params = program.graph.params
        try:
            result = program.run(inputs, [p.data for p in params])
        except Failed as failed:
            if program.graph.guards or isinstance(failed.error, FloatingPointError):
                # A guard may not hold for this data, or numpy raised where floats do not:
                # the engine decides.
                self.stats["fallbacks"] += 1
                return self._record(args, key, keep=bool(program.graph.guards))
            raise failed.error from None
        if result is None:
            self.stats["rerecorded"] += 1
            return self._record(args, key)
        self.stats["replayed"] += 1
        self.program = program
        data, aux, gradients = result
        return CompiledOutput(data, aux, params=params, gradients=gradients)

    def _record(self, args: tuple, key: Key, keep: bool = True) -> CompiledOutput:
        graph, root, extras = record(self.fn, args, _arg_names(self.fn, len(args)))
        aux = [np.vectorize(lambda v: v.data, otypes=[float])(np.asarray(e, dtype=object))
               if not isinstance(e, Value) else np.array(e.data) for e in extras]
        if keep:
            self.stats["recorded"] += 1
            self.program = self.programs[key] = Program(graph, self.backend)
        return CompiledOutput(root.data, aux, root=root)

    def sample(self, i: int, *args: Any) -> Value:
        """The ordinary Value graph of sample ``i``: ``fn`` run uncompiled on row ``i`` of each
        array argument (as a batch of one), so it can be drawn, explained or stepped through."""
        names = _arg_names(self.fn, len(args))
        rows = []
        for k, (arg, name) in enumerate(zip(args, names)):
            if isinstance(arg, (np.ndarray, list, tuple)) and np.ndim(arg) >= 1:
                n = len(arg)
                if not -n <= i < n:
                    raise IndexError(f"sample({i}): argument {k} ({name}) has {n} samples")
                rows.append(_leaves(np.asarray(arg)[i:i + 1], name, k))
            else:
                rows.append(_leaves(arg, name, k))
        out = self.fn(*rows)
        return out[0] if isinstance(out, tuple) else out

    @property
    def source(self) -> str:
        """The last program's straight-line source (see ``Program.source``)."""
        if self.program is None:
            raise RuntimeError("compiled function: call it once before reading its source")
        return self.program.source

    def __repr__(self) -> str:
        return f"Compiled({self.__name__}, {len(self.programs)} program(s), {self.stats})"


def compile(fn: Callable[..., Any], backend: str = "auto") -> Compiled:  # noqa: A001 - the public name
    """Record ``fn`` on its first call and replay it as a program on later calls (see ``Compiled``).

    ``backend``: ``'auto'`` (time straight-line float code against batched numpy on small
    graphs and keep the faster), ``'numpy'`` or ``'floats'``.
    """
    return Compiled(fn, backend)


@dataclass(frozen=True)
class Listing:
    """The straight-line program of a graph, and where each step of its backward pass is.

    ``values[k]`` is node ``k`` of the program and ``names[k]`` its variable (its gradient is
    ``d_<name>``; a constant's name is its number). Line numbers count from 1 in ``source``.
    """

    source: str
    values: list[Value]
    names: list[str]
    backward: dict[tuple[int, int], int]  # (node, operand slot) -> the line adding that contribution
    seed: int                             # the line ``d_<root> = 1.0``
    returns: int                          # the line returning every parameter's gradient

    @cached_property
    def _lines(self) -> list[str]:
        return self.source.splitlines()

    def line(self, number: int) -> str:
        """Line ``number`` of the source, without its indent."""
        return self._lines[number - 1].strip()


def listing(root: Value) -> Listing:
    """The program ``compile`` writes for the graph already built under ``root`` (every leaf
    that is not a constant a parameter), as ``Compiled.source`` shows it, with the line of
    each contribution of its backward pass. CompileError when an op has no formula text."""
    if not isinstance(root, Value):
        raise TypeError(f"listing: expected the Value to differentiate, got {type(root).__name__}")
    graph, values = record_root(root)
    code = FloatCode(graph, build=False)
    return Listing(code.source, values, code.names, dict(code.backward_line), code.seed_line,
                   code.return_line)
