"""The numpy backend: a scheduled graph as straight-line array code, one statement per group.

``BatchedCode(schedule)`` writes two Python functions over one float buffer ``V`` (values)
and ``G`` (gradients), each statement a whole group:

    a = V[ia_4]; b = V[ib_4]
    V[3637:6837] = a * b                         # the rule's text, on arrays

and backward, from the last group to the first, multiplies the group's gradient by each
local derivative (the rule's text again) and adds it to the operands' gradients, with
``np.bincount`` where one operand (a weight shared by every sample) repeats.
"""

from __future__ import annotations

import ast
import linecache
from dataclasses import dataclass
from itertools import count
from typing import Any

import numpy as np

from .record import CONST, Graph
from .schedule import Group, Schedule
from .texts import is_minus_one, is_one, substitute, vectorised
from .vectors import NAMES

__all__ = ["BatchedCode"]

_serial = count()


@dataclass
class _Operand:
    """How a group reads one operand: a literal, a slice, or an index array."""

    read: str
    nodes: list[int]


def _contiguous(pos: np.ndarray) -> bool:
    return len(pos) > 0 and pos[-1] - pos[0] == len(pos) - 1 and bool(np.all(np.diff(pos) == 1))


class BatchedCode:
    """Forward and backward array code for one schedule; ``lines`` maps a line to its group."""

    def __init__(self, sched: Schedule) -> None:
        self.sched = sched
        self.graph: Graph = sched.graph
        self.scope: dict[str, Any] = dict(NAMES, np=np, empty=np.empty, zeros=np.zeros,
                                          bincount=np.bincount, add=np.add, repeat=np.repeat)
        self.line_group: dict[int, tuple[str, Group]] = {}
        self._names = count()
        forward = self._forward()
        self._offset = forward.count("\n") + 3  # backward's first line, after two blank lines
        backward = self._backward()
        self.source = forward + "\n\n" + backward + "\n"
        filename = f"<chainrule compiled {next(_serial)}>"
        self.filename = filename
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        exec(compile(self.source, filename, "exec"), self.scope)  # generated from the rule table
        self.forward = self.scope["forward"]
        self.backward = self.scope["backward"]

    # -- helpers -------------------------------------------------------------------------
    def _const(self, name: str, value: Any) -> str:
        key = f"{name}{next(self._names)}"
        self.scope[key] = value
        return key

    def _operand(self, nodes: np.ndarray, literal: bool = True) -> _Operand:
        g, pos = self.graph, self.sched.position[nodes]
        if literal and (g.kind[nodes] == CONST).all() and len({g.value[i] for i in nodes.tolist()}) == 1:
            return _Operand(repr(float(g.value[int(nodes[0])])), nodes)
        if _contiguous(pos):
            return _Operand(f"V[{pos[0]}:{pos[-1] + 1}]", nodes)
        return _Operand(f"V[{self._const('i', pos)}]", nodes)

    def _scatter(self, nodes: np.ndarray, contribution: str) -> list[str]:
        """Lines adding ``contribution`` (one entry per node) into G, for nodes that need grads."""
        need = self.sched.needs_grad[nodes]
        if not need.any():
            return []
        pos = self.sched.position[nodes]
        lines = []
        if not need.all():
            keep = self._const("k", np.flatnonzero(need))
            lines.append(f"c = {contribution}[{keep}]")
            pos, contribution = pos[need], "c"
        uniq, inverse = np.unique(pos, return_inverse=True)
        if len(uniq) == len(pos):
            target = f"G[{pos[0]}:{pos[-1] + 1}]" if _contiguous(pos) else f"G[{self._const('s', pos)}]"
            lines.append(f"{target} += {contribution}")
        else:
            u, inv = self._const("u", uniq), self._const("v", inverse)
            lines.append(f"G[{u}] += bincount({inv}, {contribution}, {len(uniq)})")
        return lines

    # -- forward -------------------------------------------------------------------------
    def _forward(self) -> str:
        s, g = self.sched, self.graph
        ni, npar = g.n_inputs, len(g.param_nodes)
        self.scope["CONSTS"] = s.const_values
        c0, c1 = s.const_start, s.const_start + len(s.const_values)
        lines = ["def forward(I, P):", f"    V = empty({s.size})", f"    V[0:{ni}] = I",
                 f"    V[{ni}:{ni + npar}] = P", f"    V[{c0}:{c1}] = CONSTS"]
        for group in s.groups:
            lines.append(f"    # level {group.level}: {group.name} x {len(group.nodes)}")
            first = len(lines) + 1
            lines.extend("    " + line for line in self._group_forward(group))
            for k in range(first, len(lines) + 1):
                self.line_group[k] = ("forward", group)
        lines.append("    return V")
        return "\n".join(lines)

    def _group_forward(self, group: Group) -> list[str]:
        out = f"V[{group.start}:{group.stop}]"
        if group.text is None:
            terms = self._operand(group.terms, literal=False)
            if len(set(group.counts.tolist())) == 1:
                k = int(group.counts[0])
                return [f"{out} = {terms.read}.reshape(-1, {k}).sum(axis=1)"]
            starts = self._const("r", group.offsets)
            return [f"{out} = add.reduceat({terms.read}, {starts})"]
        lines, names = [], {"p": repr(group.p)}
        a = self._operand(group.a)
        lines.append(f"a = {a.read}")
        names["a"] = "a"
        if len(group.b):
            b = self._operand(group.b)
            lines.append(f"b = {b.read}")
            names["b"] = "b"
        lines.append(f"{out} = {substitute(vectorised(group.text.forward), names)}")
        return lines

    # -- backward ------------------------------------------------------------------------
    def _backward(self) -> str:
        s, g = self.sched, self.graph
        lines = ["def backward(V):", f"    G = zeros({s.size})", f"    G[{s.position[g.root]}] = 1.0"]
        for group in reversed(s.groups):
            if not s.needs_grad[group.nodes].any():
                continue
            body = self._group_backward(group)
            if not body:
                continue
            lines.append(f"    # level {group.level}: {group.name} x {len(group.nodes)}")
            first = len(lines) + 1
            lines.extend("    " + line for line in body)
            for k in range(first, len(lines) + 1):
                self.line_group[k + self._offset - 1] = ("backward", group)
        ni, npar = g.n_inputs, len(g.param_nodes)
        lines.append(f"    return G[{ni}:{ni + npar}]")
        return "\n".join(lines)

    def _group_backward(self, group: Group) -> list[str]:
        grad = f"G[{group.start}:{group.stop}]"
        if group.text is None:
            counts = group.counts
            spread = (f"repeat({grad}, {int(counts[0])})" if len(set(counts.tolist())) == 1
                      else f"repeat({grad}, {self._const('n', counts)})")
            body = self._scatter(group.terms, "t")
            return [f"t = {spread}", *body] if body else []
        text = group.text
        operands = [("a", group.a)] + ([("b", group.b)] if len(group.b) else [])
        lines: list[str] = []
        loaded: set[str] = set()
        names = {"p": repr(group.p), "out": f"V[{group.start}:{group.stop}]", "a": "a", "b": "b"}
        if text.log_at_zero:
            names["log"] = "exponent_log"
        for (_, nodes), derivative in zip(operands, text.derivatives):
            if not self.sched.needs_grad[nodes].any():
                continue
            for used, which in (("a", group.a), ("b", group.b)):
                if used not in loaded and _uses(derivative, used):
                    lines.append(f"{used} = {self._operand(which).read}")
                    loaded.add(used)
            if is_one(derivative):
                contribution = "g"
            elif is_minus_one(derivative):
                contribution = "-g"
            else:
                contribution = f"({substitute(vectorised(derivative), names)}) * g"
            lines.append(f"c = {contribution}")
            lines.extend(self._scatter(nodes, "c"))
        return [f"g = {grad}", *lines] if lines else []


def _uses(text: str, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(ast.parse(text, mode="eval")))
