"""Recording: run the user's function once on Values and keep its graph as flat lists.

``record(fn, args, names)`` gives ``fn`` object arrays of leaf Values in place of its array
arguments (a Value in place of a number), runs it, and reads the graph it built into a
``Graph``: per node its kind (input, parameter, constant or op), operands, rule text, label,
recorded value and the batch sample it belongs to. While it runs, every comparison of a Value
with ``<``, ``<=``, ``>``, ``>=`` (also inside ``max``, ``min``, ``sorted``) becomes a
``Guard``, re-checked on every replay; ``bool(v)`` is refused with the file and line.
"""

from __future__ import annotations

import operator
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import value as value_module
from ..engine import topo_order
from ..mode import enable_grad
from ..rules import CONST as CONST_RULE
from ..value import Value
from .texts import OpText, names_in, op_text
from .vectors import NAMES

__all__ = ["CompileError", "Graph", "Guard", "record", "record_root", "INPUT", "PARAM", "CONST", "OP",
           "NO_SAMPLE", "MIXED", "COMPARE"]

INPUT, PARAM, CONST, OP = 0, 1, 2, 3
NO_SAMPLE, MIXED = -1, -2
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}

_AUTOGRAD = str(Path(value_module.__file__).resolve().parent)


class CompileError(TypeError):
    """``fn`` cannot be compiled as written; the message says where and what to change."""


@dataclass(frozen=True)
class Guard:
    """A comparison ``fn`` made while recording: ``lhs op rhs`` was ``expected`` (node ids)."""

    op: str
    lhs: int
    rhs: int
    expected: bool
    where: str


@dataclass
class Graph:
    """A recorded graph in topological order, as arrays indexed by node id.

    ``kind`` is INPUT, PARAM, CONST or OP; an op node's operands are ``a`` and ``b`` (-1 for
    none), its rule text ``texts[rule]`` and its constant ``p``.
    """

    kind: np.ndarray
    a: np.ndarray
    b: np.ndarray
    rule: np.ndarray
    texts: list[OpText]
    p: list[float | None]
    value: list[float]
    label: list[str]
    input_slot: np.ndarray  # node -> position in the flat inputs (-1 if not an input)
    input_sample: np.ndarray  # node -> batch sample of an input (NO_SAMPLE otherwise)
    params: list[Value]
    param_nodes: np.ndarray
    root: int
    aux: list[np.ndarray]  # node ids, shaped as fn returned them
    guards: list[Guard]
    arg_names: tuple[str, ...]
    arg_shapes: tuple[tuple[int, ...] | None, ...]  # None for a number
    n_inputs: int
    _text: list[OpText | None] | None = field(default=None, repr=False)
    _sample: list[int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def ops(self) -> int:
        """How many nodes are operations."""
        return int(np.count_nonzero(self.kind == OP))

    @property
    def text(self) -> list[OpText | None]:
        """Each node's rule text (None for a leaf)."""
        if self._text is None:
            self._text = [self.texts[r] if r >= 0 else None for r in self.rule.tolist()]
        return self._text

    @property
    def sample(self) -> list[int]:
        """The batch sample each node belongs to: NO_SAMPLE, MIXED (several), or a row index."""
        if self._sample is None:
            sample = self.input_sample.tolist()
            a, b, kind = self.a.tolist(), self.b.tolist(), self.kind.tolist()
            for i, k in enumerate(kind):
                if k == OP:
                    sample[i] = _combine(sample[a[i]], sample[b[i]]) if b[i] >= 0 else sample[a[i]]
            self._sample = sample
        return self._sample

    def describe_sample(self, s: int) -> str:
        """``'sample 3 (X[3], y[3])'`` for a batch sample; ``''`` when the node has none."""
        if s < 0:
            return ""
        rows = [f"{n}[{s}]" for n, shape in zip(self.arg_names, self.arg_shapes) if shape]
        return f"sample {s} ({', '.join(rows)})"


def _user_location() -> str:
    """``file:line`` of the innermost frame outside chainrule.autograd: where the user's code is."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith((_AUTOGRAD, "<chainrule")):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


# The recording watcher of each thread that is recording. value._watch is _dispatch while any
# thread records (None otherwise, so comparisons cost one test), and _dispatch hands each
# comparison to its own thread's watcher: recordings in several threads never see each other's
# branches, and a thread that is not recording is never refused a bool().
_watchers: dict[int, _Watcher] = {}
_watchers_lock = threading.Lock()


def _dispatch(v: Value, other: Any, op: str, result: bool) -> None:
    watcher = _watchers.get(threading.get_ident())
    if watcher is not None:
        watcher(v, other, op, result)


class _Watcher:
    """Notes each comparison of a Value made by its thread during recording."""

    def __init__(self) -> None:
        self.compared: list[tuple[str, Value, Any, bool, str]] = []

    def __call__(self, v: Value, other: Any, op: str, result: bool) -> None:
        where = _user_location()
        if op == "bool":
            raise CompileError(
                f"{where}: bool() of a Value inside a compiled function (an `if v:`, `while v:`, "
                "`and`/`or`): a Value is always true, whatever its data, so the branch would be "
                "baked in; compare it instead (`if v > 0:`), which compile() re-checks on every call"
            )
        self.compared.append((op, v, other, bool(result), where))


def _leaves(arg: Any, name: str, index: int) -> Any:
    """A Value for a number, an object array of Values for an array; labels name the element."""
    if isinstance(arg, (bool, np.bool_)) or isinstance(arg, Value):
        raise TypeError(f"compiled call: argument {index} ({name}) must be a number or a float array, "
                        f"got {type(arg).__name__}")
    if np.ndim(arg) == 0:  # a number, or a 0-d array: one Value
        try:
            return Value(float(arg), label=name)
        except (TypeError, ValueError):
            raise TypeError(f"compiled call: argument {index} ({name}) must be a number or a float array, "
                            f"got {type(arg).__name__}") from None
    arr = np.asarray(arg)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"compiled call: argument {index} ({name}) must hold real numbers, "
                        f"got dtype {arr.dtype}")
    out = np.empty(arr.shape, dtype=object)
    for idx, x in np.ndenumerate(arr):
        out[idx] = Value(float(x), label=f"{name}[{','.join(map(str, idx))}]")
    return out


def _aux_ids(item: Any, ids: dict[Value, int], k: int) -> np.ndarray:
    arr = np.asarray(item, dtype=object) if not isinstance(item, Value) else np.array(item, dtype=object)
    out = np.empty(arr.shape, dtype=np.intp)
    for idx, v in np.ndenumerate(arr):
        if not isinstance(v, Value):
            raise CompileError(f"compiled function: returned item {k + 1} holds a {type(v).__name__}, "
                               "not a Value; return Values (or lists or arrays of Values) only")
        out[idx] = ids[v]
    return out


_OPERANDS = frozenset({"a", "b", "p", "out"})


def _check_names(text: OpText) -> None:
    """Refuse a rule whose text calls a function the numpy backend has no twin of."""
    used = names_in(text.forward).union(*(names_in(d) for d in text.derivatives))
    unknown = sorted(used - _OPERANDS - set(NAMES))
    if unknown:
        raise CompileError(
            f"compiled function uses the op {text.name!r}, whose text calls {', '.join(unknown)}: "
            f"compile() knows only {', '.join(sorted(NAMES))} (run this function uncompiled)"
        )


def _combine(s: int, t: int) -> int:
    if s == NO_SAMPLE or s == t:
        return t
    if t == NO_SAMPLE:
        return s
    return MIXED


def record(fn: Callable[..., Any], args: Sequence[Any], names: Sequence[str]) -> tuple[Graph, Value, list]:
    """Run ``fn`` on leaf Values standing for ``args``; return its graph, root Value and extra outputs."""
    leaves = [_leaves(arg, name, i) for i, (arg, name) in enumerate(zip(args, names))]
    watcher, thread = _Watcher(), threading.get_ident()
    with _watchers_lock:
        outer = _watchers.get(thread)  # a compiled function called while recording another
        _watchers[thread] = watcher
        value_module._watch = _dispatch
    try:
        with enable_grad():
            result = fn(*leaves)
    finally:
        with _watchers_lock:
            if outer is None:
                del _watchers[thread]
            else:
                _watchers[thread] = outer
            if not _watchers:
                value_module._watch = None
    root, extras = (result[0], list(result[1:])) if isinstance(result, tuple) and result else (result, [])
    if not isinstance(root, Value):
        raise CompileError(f"compiled function must return a Value (or a tuple whose first item is the "
                           f"Value to differentiate), got {type(root).__name__}")

    slots: dict[Value, tuple[int, int]] = {}  # leaf -> (flat slot, sample)
    shapes, n_inputs = [], 0
    for leaf in leaves:
        if isinstance(leaf, Value):
            slots[leaf] = (n_inputs, NO_SAMPLE)
            n_inputs += 1
            shapes.append(None)
            continue
        shapes.append(leaf.shape)
        per_row = leaf.size // leaf.shape[0] if leaf.ndim and leaf.shape[0] else 1
        for k, v in enumerate(leaf.ravel()):
            slots[v] = (n_inputs + k, k // per_row if leaf.ndim else NO_SAMPLE)
        n_inputs += leaf.size

    compared = [v for _, v, _, _, _ in watcher.compared] + [
        other for _, _, other, _, _ in watcher.compared if isinstance(other, Value)]
    aux_values = [v for item in extras for v in np.asarray(item, dtype=object).ravel()
                  if isinstance(v, Value)]
    order = topo_order(root, *aux_values, *compared)
    graph = _graph(order, slots, root, extras, watcher.compared, tuple(names), tuple(shapes), n_inputs)
    return graph, root, extras


def record_root(root: Value) -> tuple[Graph, list[Value]]:
    """The graph already built under ``root``, read as ``record`` reads a function's (it has no
    inputs: every leaf that is not a constant is a parameter), and its Values in node order."""
    order = topo_order(root)
    return _graph(order, {}, root, [], [], (), (), 0), order


def _graph(order: list[Value], slots: dict, root: Value, extras: list, compared: list,
           names: tuple[str, ...], shapes: tuple, n_inputs: int) -> Graph:
    """The flat arrays of a topologically ordered list of Values (list comprehensions: this runs
    once per recording, over every node)."""
    ids: dict[Any, int] = {v: i for i, v in enumerate(order)}
    ids[None] = -1
    n = len(order)
    a = np.fromiter((ids[v._a] for v in order), dtype=np.intp, count=n)
    b = np.fromiter((ids[v._b] for v in order), dtype=np.intp, count=n)
    rules = [v._rule for v in order]
    rule_ids: dict[Any, int] = {}
    texts: list[OpText] = []
    kind = np.full(n, PARAM, dtype=np.int8)
    rule = np.full(n, -1, dtype=np.int32)
    is_op = a >= 0
    for i in np.flatnonzero(is_op).tolist():
        r = rules[i]
        if order[i]._da is None and order[i]._db is not None:  # a _backward assigned by hand
            raise CompileError(
                f"compiled function uses a {order[i]._op!r} node with a hand-written _backward, which "
                "compile() cannot read (run this function uncompiled, or define the op with define_op)"
            )
        k = rule_ids.get(r)
        if k is None:
            text = op_text(r)
            if text is None:
                raise CompileError(
                    f"compiled function uses the op {order[i]._op!r}, which has no formula text in the rule "
                    "table; compile() runs only ops written as formula text (run this function uncompiled)"
                )
            _check_names(text)
            k = rule_ids[r] = len(texts)
            texts.append(text)
        rule[i] = k
    kind[is_op] = OP
    const = CONST_RULE
    kind[np.fromiter((r is const for r in rules), dtype=bool, count=n)] = CONST
    input_slot = np.full(n, -1, dtype=np.intp)
    input_sample = np.full(n, NO_SAMPLE, dtype=np.intp)
    for v, (slot, sample) in slots.items():
        i = ids.get(v)
        if i is not None:
            kind[i] = INPUT
            input_slot[i] = slot
            input_sample[i] = sample
    param_nodes = np.flatnonzero(kind == PARAM)
    value = [v.data for v in order]
    label = [v.label for v in order]
    p = [v._p for v in order]
    guards = []
    kind_extra, value_extra = [], []
    for op, v, other, expected, where in compared:
        if isinstance(other, Value):
            rhs = ids[other]
        else:  # a number: a constant node of its own
            rhs = n + len(value_extra)
            kind_extra.append(CONST)
            value_extra.append(float(other))
        guards.append(Guard(op, ids[v], rhs, expected, where))
    if value_extra:
        m = len(value_extra)
        kind = np.concatenate([kind, np.array(kind_extra, dtype=np.int8)])
        a = np.concatenate([a, np.full(m, -1, dtype=np.intp)])
        b = np.concatenate([b, np.full(m, -1, dtype=np.intp)])
        rule = np.concatenate([rule, np.full(m, -1, dtype=np.int32)])
        input_slot = np.concatenate([input_slot, np.full(m, -1, dtype=np.intp)])
        input_sample = np.concatenate([input_sample, np.full(m, NO_SAMPLE, dtype=np.intp)])
        value += value_extra
        label += [""] * m
        p += [None] * m
    return Graph(
        kind=kind, a=a, b=b, rule=rule, texts=texts, p=p, value=value, label=label,
        input_slot=input_slot, input_sample=input_sample,
        params=[order[i] for i in param_nodes.tolist()], param_nodes=param_nodes,
        root=ids[root], aux=[_aux_ids(item, ids, k) for k, item in enumerate(extras)], guards=guards,
        arg_names=names, arg_shapes=shapes, n_inputs=n_inputs,
    )
