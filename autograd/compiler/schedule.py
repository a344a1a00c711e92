"""Scheduling: which recorded nodes run together, and where each value lives in one buffer.

DyNet's on-the-fly operation batching, done once per recorded graph: every op node gets a
level (1 + the highest level of its operands; leaves are level 0), and the nodes that apply
the same rule (with the same constant ``p``) at the same level form one ``Group``, which the
numpy backend runs as one array operation.

Before levelling, two fusions shrink the graph; both rest on the table's own rules:

- a chain of ``+`` whose partial sums nothing else reads becomes one n-ary sum (``+`` has
  derivative 1 for both operands, so each term receives the sum's gradient unchanged);
- the products ``a * b`` among a sum's terms that nothing else reads join it as a dot
  product, sum(a_k * b_k) + the other terms (``*``'s derivatives are ``b`` and ``a``). A
  neuron's ``w0*x0 + w1*x1 + ... + b`` is then one node, and a layer over a batch one group.

The buffer holds the inputs first (in the order of the flat arguments), then the parameters,
then the constants, then each group's outputs in schedule order, so a group writes one slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .record import CONST, INPUT, OP, Graph
from .texts import OpText

__all__ = ["Group", "Schedule", "schedule"]

_EMPTY = np.empty(0, dtype=np.intp)


@dataclass
class Group:
    """Nodes computed by one array operation: ``nodes`` (ids) land in ``buffer[start:stop]``.

    ``kind`` is ``'op'`` (a rule's ``text`` on operand ids ``a`` and ``b``), ``'sum'`` (flat
    ``terms``, ``counts`` per node) or ``'dot'`` (per node, ``width`` products of ``a`` and
    ``b`` (shape nodes x width) by the ``text`` of ``*``, plus ``terms``, ``counts`` each).
    """

    level: int
    kind: str
    text: OpText | None
    p: float | None
    nodes: np.ndarray
    a: np.ndarray = field(default_factory=lambda: _EMPTY)
    b: np.ndarray = field(default_factory=lambda: _EMPTY)
    terms: np.ndarray = field(default_factory=lambda: _EMPTY)
    counts: np.ndarray = field(default_factory=lambda: _EMPTY)
    start: int = 0
    matmul: tuple[np.ndarray, np.ndarray] | None = None  # set by the numpy backend

    @property
    def offsets(self) -> np.ndarray:
        """Where each sum's terms start in ``terms``."""
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.intp)

    @property
    def stop(self) -> int:
        return self.start + len(self.nodes)

    @property
    def name(self) -> str:
        return self.kind if self.kind != "op" else self.text.name


@dataclass
class Schedule:
    """Groups in run order, each node's buffer position, and which nodes need a gradient."""

    graph: Graph
    groups: list[Group]
    position: np.ndarray  # node id -> buffer index (-1 for a node fused into another)
    size: int
    const_start: int
    const_values: np.ndarray
    needs_grad: np.ndarray  # bool per node: on a path from a parameter to the root


def _rules(graph: Graph, name: str, forward: str, derivatives: tuple[str, ...]) -> list[int]:
    """Indexes of graph.texts for the rule ``name`` if its text is exactly as a fusion assumes."""
    return [k for k, t in enumerate(graph.texts)
            if t.name == name and t.arity == 2 and t.forward.replace(" ", "") == forward
            and tuple(d.replace(" ", "") for d in t.derivatives) == derivatives]


def _fusions(graph: Graph) -> tuple[dict[int, list[int]], dict[int, tuple[list[int], list[int]]], np.ndarray]:
    """Sums (node -> flat terms), dots (node -> (products, other terms)) and the fused-away mask."""
    n = len(graph)
    kind, a, b = graph.kind, graph.a, graph.b
    ops = kind == OP
    is_add = ops & (b >= 0) & np.isin(graph.rule, _rules(graph, "+", "a+b", ("1", "1")))
    is_mul = ops & (b >= 0) & np.isin(graph.rule, _rules(graph, "*", "a*b", ("b", "a")))
    consumers = np.bincount(a[ops], minlength=n) + np.bincount(b[ops & (b >= 0)], minlength=n)
    pinned = np.zeros(n, dtype=bool)
    pinned[graph.root] = True
    for ids in graph.aux:
        pinned[ids.ravel()] = True
    for guard in graph.guards:
        pinned[[guard.lhs, guard.rhs]] = True
    single = (consumers == 1) & ~pinned
    adds = np.flatnonzero(is_add)
    operands = np.concatenate([a[adds], b[adds]])
    absorbed = np.zeros(n, dtype=bool)
    absorbed[operands[(is_add & single)[operands]]] = True  # partial sums
    product = is_mul & single
    al, bl, ab, pl = a.tolist(), b.tolist(), absorbed.tolist(), product.tolist()
    sums: dict[int, list[int]] = {}
    dots: dict[int, tuple[list[int], list[int]]] = {}
    for i in adds[~absorbed[adds]].tolist():
        # Walk down the left spine (a neuron's chain is left-deep), then expand any right
        # operand that is itself a fused partial sum.
        right = [bl[i]]
        j = al[i]
        while ab[j]:
            right.append(bl[j])
            j = al[j]
        right.append(j)
        right.reverse()
        flat = right if not any([ab[t] for t in right]) else _expand(right, al, bl, ab)
        products = [j for j in flat if pl[j]]
        if products:
            dots[i] = (products, [j for j in flat if not pl[j]])
        elif len(flat) > 2:
            sums[i] = flat
    for products, _ in dots.values():
        absorbed[products] = True
    return sums, dots, absorbed


def _expand(terms: list[int], a: list[int], b: list[int], absorbed: list[bool]) -> list[int]:
    """``terms`` with every fused partial sum replaced by its own terms, in order."""
    flat: list[int] = []
    stack = terms[::-1]
    while stack:
        j = stack.pop()
        if absorbed[j]:
            stack.append(b[j])
            stack.append(a[j])
        else:
            flat.append(j)
    return flat


def _needs_grad(graph: Graph, groups: list[Group], n: int) -> np.ndarray:
    """Nodes on a path from a parameter to the root: only these get gradients."""
    from_param = np.zeros(n, dtype=bool)
    from_param[graph.param_nodes] = True

    def any_per_node(ids: np.ndarray, group: Group) -> np.ndarray:
        if not len(ids):
            return np.zeros(len(group.nodes), dtype=bool)
        return np.logical_or.reduceat(from_param[ids], group.offsets) if group.kind == "sum" else \
            from_param[ids].reshape(len(group.nodes), -1).any(axis=1)

    for group in groups:
        if group.kind == "op":
            hit = from_param[group.a] | (from_param[group.b] if len(group.b) else False)
        elif group.kind == "sum":
            hit = any_per_node(group.terms, group)
        else:
            hit = any_per_node(group.a.ravel(), group) | any_per_node(group.b.ravel(), group)
            hit |= any_per_node(group.terms, group)
        from_param[group.nodes] = hit
    to_root = np.zeros(n, dtype=bool)
    to_root[graph.root] = True
    for group in reversed(groups):
        live = to_root[group.nodes]
        if not live.any():
            continue
        if group.kind == "op":
            to_root[group.a[live]] = True
            if len(group.b):
                to_root[group.b[live]] = True
            continue
        to_root[group.terms[np.repeat(live, group.counts)]] = True
        if group.kind == "dot":
            to_root[group.a[live].ravel()] = True
            to_root[group.b[live].ravel()] = True
    return from_param & to_root


def schedule(graph: Graph, fuse: bool = True) -> Schedule:
    """Level the graph, group same-rule nodes per level and lay the buffer out."""
    n = len(graph)
    sums, dots, absorbed = _fusions(graph) if fuse else ({}, {}, np.zeros(n, dtype=bool))
    kind = graph.kind
    ops = np.flatnonzero((kind == OP) & ~absorbed)
    a, b = graph.a.tolist(), graph.b.tolist()
    level = [0] * n
    shape: dict[int, tuple[int, int]] = {}
    for i in ops.tolist():
        t = sums.get(i)
        if t is not None:
            level[i] = 1 + max([level[j] for j in t])
            continue
        d = dots.get(i)
        if d is not None:
            products, rest = d
            level[i] = 1 + max([level[a[j]] for j in products] + [level[b[j]] for j in products]
                               + [level[j] for j in rest])
            shape[i] = (len(products), len(rest))
        elif b[i] >= 0:
            level[i] = 1 + max(level[a[i]], level[b[i]])
        else:
            level[i] = 1 + level[a[i]]
    lv = np.array(level, dtype=np.intp)[ops]
    # Group key: level, kind and rule (sums -1, dots -2 - their shape), constant p; then node order.
    p_codes: dict[Any, int] = {}
    shape_codes: dict[tuple[int, int], int] = {}
    is_sum = np.zeros(n, dtype=bool)
    is_sum[list(sums)] = True
    rk = np.where(is_sum[ops], -1, graph.rule[ops])
    pc = np.zeros(len(ops), dtype=np.intp)
    for k, i in enumerate(ops.tolist()):
        if i in shape:
            rk[k] = -2 - shape_codes.setdefault(shape[i], len(shape_codes))
        else:
            pc[k] = p_codes.setdefault(graph.p[i], len(p_codes))
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

    mul = _rules(graph, "*", "a*b", ("b", "a"))
    groups = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        nodes = ops[lo:hi]
        first = int(nodes[0])
        if rk[lo] == -1:
            group = Group(int(lv[lo]), "sum", None, None, nodes, start=pos + lo)
            group.terms = np.array([j for i in nodes.tolist() for j in sums[i]], dtype=np.intp)
            group.counts = np.array([len(sums[i]) for i in nodes.tolist()], dtype=np.intp)
        elif rk[lo] <= -2:
            group = Group(int(lv[lo]), "dot", graph.texts[mul[0]], None, nodes, start=pos + lo)
            prods = np.array([dots[i][0] for i in nodes.tolist()], dtype=np.intp)
            group.a, group.b = graph.a[prods], graph.b[prods]
            group.terms = np.array([j for i in nodes.tolist() for j in dots[i][1]], dtype=np.intp)
            group.counts = np.full(len(nodes), len(dots[first][1]), dtype=np.intp)
        else:
            group = Group(int(lv[lo]), "op", graph.texts[rk[lo]], graph.p[first], nodes, start=pos + lo)
            group.a = graph.a[nodes]
            group.b = graph.b[nodes] if graph.b[first] >= 0 else _EMPTY
        groups.append(group)
    return Schedule(graph, groups, position, pos + len(ops), const_start, const_values,
                    _needs_grad(graph, groups, n))
