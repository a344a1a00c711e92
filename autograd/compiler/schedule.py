"""Scheduling: which recorded nodes run together, and where each value lives in one buffer.

DyNet's on-the-fly operation batching, done once per recorded graph: every op node gets a
level (1 + the highest level of its operands; leaves are level 0), and the nodes that apply
the same rule (with the same constant ``p``) at the same level form one ``Group``, which the
numpy backend runs as one array operation. Before levelling, chains of ``+`` whose partial
sums nothing else reads are fused into one n-ary sum (the table's derivative of ``+`` is 1
for both operands, so each term receives the sum's gradient unchanged): a neuron's
``w0*x0 + w1*x1 + ... + b`` is then one level, not one per input.

The buffer holds the inputs first (in the order of the flat arguments), then the parameters,
then the constants, then each group's outputs in schedule order, so a group writes one slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .record import CONST, INPUT, OP, Graph
from .texts import OpText, is_one

__all__ = ["Group", "Schedule", "schedule"]


@dataclass
class Group:
    """Nodes computed by one array operation: ``nodes`` (ids) land in ``buffer[start:stop]``.

    An op group has ``text`` and operand node ids ``a`` (and ``b``); a sum group
    (``text is None``) has the flat ``terms`` and ``counts`` terms per sum.
    """

    level: int
    text: OpText | None
    p: float | None
    nodes: np.ndarray
    a: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    b: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    terms: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    start: int = 0

    @property
    def offsets(self) -> np.ndarray:
        """Where each sum's terms start in ``terms``."""
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.intp)

    @property
    def stop(self) -> int:
        return self.start + len(self.nodes)

    @property
    def name(self) -> str:
        return "sum" if self.text is None else self.text.name


@dataclass
class Schedule:
    """Groups in run order, each node's buffer position, and which nodes need a gradient."""

    graph: Graph
    groups: list[Group]
    position: np.ndarray  # node id -> buffer index (-1 for a fused partial sum)
    size: int
    const_start: int
    const_values: np.ndarray
    needs_grad: np.ndarray  # bool per node: on a path from a parameter to the root


def _fused_sums(graph: Graph) -> tuple[dict[int, list[int]], np.ndarray]:
    """For each kept ``+`` node that absorbed partial sums, its flat terms; and the absorbed mask."""
    n = len(graph)
    kind, a, b = graph.kind, graph.a, graph.b
    plus = [k for k, t in enumerate(graph.texts)
            if t.name == "+" and t.arity == 2 and all(is_one(d) for d in t.derivatives)]
    is_add = (kind == OP) & (b >= 0) & np.isin(graph.rule, plus)
    ops = kind == OP
    consumers = np.bincount(a[ops], minlength=n) + np.bincount(b[ops & (b >= 0)], minlength=n)
    pinned = np.zeros(n, dtype=bool)
    pinned[graph.root] = True
    for ids in graph.aux:
        pinned[ids.ravel()] = True
    for guard in graph.guards:
        pinned[[guard.lhs, guard.rhs]] = True
    absorbable = is_add & (consumers == 1) & ~pinned
    adds = np.flatnonzero(is_add)
    operands = np.concatenate([a[adds], b[adds]])
    absorbed = np.zeros(n, dtype=bool)
    absorbed[operands[absorbable[operands]]] = True
    # The sums that absorbed something: flatten their chains, operands in order.
    heads = adds[~absorbed[adds] & (absorbed[a[adds]] | absorbed[b[adds]])]
    al, bl, ab = a.tolist(), b.tolist(), absorbed.tolist()
    terms: dict[int, list[int]] = {}
    for i in heads.tolist():
        flat: list[int] = []
        stack = [bl[i], al[i]]
        while stack:
            j = stack.pop()
            if ab[j]:
                stack.append(bl[j])
                stack.append(al[j])
            else:
                flat.append(j)
        terms[i] = flat
    return terms, absorbed


def _needs_grad(graph: Graph, groups: list[Group], n: int) -> np.ndarray:
    """Nodes on a path from a parameter to the root: only these get gradients."""
    from_param = np.zeros(n, dtype=bool)
    from_param[graph.param_nodes] = True
    for group in groups:
        if group.text is None:
            hit = np.logical_or.reduceat(from_param[group.terms], group.offsets)
        else:
            hit = from_param[group.a] | (from_param[group.b] if len(group.b) else False)
        from_param[group.nodes] = hit
    to_root = np.zeros(n, dtype=bool)
    to_root[graph.root] = True
    for group in reversed(groups):
        live = to_root[group.nodes]
        if not live.any():
            continue
        if group.text is None:
            to_root[group.terms[np.repeat(live, group.counts)]] = True
        else:
            to_root[group.a[live]] = True
            if len(group.b):
                to_root[group.b[live]] = True
    return from_param & to_root


def schedule(graph: Graph, fuse: bool = True) -> Schedule:
    """Level the graph, group same-rule nodes per level and lay the buffer out."""
    n = len(graph)
    sums, absorbed = _fused_sums(graph) if fuse else ({}, np.zeros(n, dtype=bool))
    kind = graph.kind
    ops = np.flatnonzero((kind == OP) & ~absorbed)
    a, b = graph.a.tolist(), graph.b.tolist()
    level = [0] * n
    for i in ops.tolist():
        t = sums.get(i)
        if t is not None:
            level[i] = 1 + max([level[j] for j in t])
        elif b[i] >= 0:
            level[i] = 1 + max(level[a[i]], level[b[i]])
        else:
            level[i] = 1 + level[a[i]]
    lv = np.array(level, dtype=np.intp)[ops]
    # Group key: level, rule (sums as their own kind), constant p; nodes in recording order.
    p_codes: dict[Any, int] = {}
    pc = np.array([p_codes.setdefault(graph.p[i], len(p_codes)) for i in ops.tolist()], dtype=np.intp)
    is_sum = np.zeros(n, dtype=bool)
    is_sum[list(sums)] = True
    rk = np.where(is_sum[ops], -1, graph.rule[ops])
    order = np.lexsort((ops, pc, rk, lv))
    ops, lv, pc, rk = ops[order], lv[order], pc[order], rk[order]
    cut = np.flatnonzero((np.diff(lv) != 0) | (np.diff(rk) != 0) | (np.diff(pc) != 0)) + 1
    bounds = np.concatenate([[0], cut, [len(ops)]]).astype(np.intp)

    position = np.full(n, -1, dtype=np.intp)
    inputs = np.flatnonzero(kind == INPUT)
    position[inputs] = graph.input_slot[inputs]
    params = graph.param_nodes
    position[params] = graph.n_inputs + np.arange(len(params))
    consts = np.flatnonzero(kind == CONST)
    const_start = graph.n_inputs + len(params)
    position[consts] = const_start + np.arange(len(consts))
    const_values = np.array([graph.value[i] for i in consts.tolist()], dtype=float)
    pos = const_start + len(consts)
    position[ops] = pos + np.arange(len(ops))

    groups = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        nodes = ops[lo:hi]
        first = int(nodes[0])
        if rk[lo] == -1:
            group = Group(int(lv[lo]), None, None, nodes, start=pos + lo)
            group.terms = np.array([j for i in nodes.tolist() for j in sums[i]], dtype=np.intp)
            group.counts = np.array([len(sums[i]) for i in nodes.tolist()], dtype=np.intp)
        else:
            group = Group(int(lv[lo]), graph.texts[rk[lo]], graph.p[first], nodes, start=pos + lo)
            group.a = graph.a[nodes]
            group.b = graph.b[nodes] if graph.b[first] >= 0 else np.empty(0, dtype=np.intp)
        groups.append(group)
    return Schedule(graph, groups, position, pos + len(ops), const_start, const_values,
                    _needs_grad(graph, groups, n))
