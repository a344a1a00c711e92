"""The numpy backend: a scheduled graph as straight-line array code, one statement per group.

``BatchedCode(schedule)`` writes two Python functions over one float buffer ``V`` (values)
and ``G`` (gradients), each statement a whole group, its arithmetic the rule's text on arrays:

    a = V.take(i4)
    V[6178:7778] = where(a > 0, a, 0.0)          # relu's text, "a if a > 0 else 0.0"

Backward runs the groups last to first: the group's gradient times each local derivative
(the rule's text again) is added to the operands' gradients, summing rows first where one
operand (a weight shared by every sample) repeats, and with ``np.bincount`` otherwise. A dot
group whose weights are shared by the samples and whose inputs are shared by the neurons is
a matrix product, forward (``X @ W.T``) and backward (``G.T @ X``, ``G @ W``).
"""

from __future__ import annotations

import linecache
from itertools import count
from typing import Any

import numpy as np

from .record import CONST, Graph
from .schedule import Group, Schedule
from .texts import is_minus_one, is_one, names_in, substitute, vectorised
from .vectors import NAMES

__all__ = ["BatchedCode"]

_serial = count()


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _contiguous(pos: np.ndarray) -> bool:
    return len(pos) > 0 and pos[-1] - pos[0] == len(pos) - 1 and bool(np.all(np.diff(pos) == 1))


def _tiled(pos: np.ndarray) -> int:
    """How many times ``pos`` repeats one row of distinct positions (1 if it does not)."""
    n = len(pos)
    for rows in reversed(_divisors(n)):
        if rows == 1:
            break
        block = pos.reshape(rows, n // rows)
        if (block == block[0]).all() and len(np.unique(block[0])) == block.shape[1]:
            return rows
    return 1


def _matmul(pa: np.ndarray, pb: np.ndarray) -> tuple[int, bool] | None:
    """(S, swapped) when m x width products factor as a matrix product: S samples times J rows
    of weights, the weights (operand a, or b if swapped) the same for every sample and each
    sample's inputs the same for every row; None otherwise."""
    m, width = pa.shape
    for s in _divisors(m):
        j = m // s
        for w, x, swapped in ((pa, pb, False), (pb, pa, True)):
            w3, x3 = w.reshape(s, j, width), x.reshape(s, j, width)
            if (w3 == w3[:1]).all() and (x3 == x3[:, :1]).all():
                return s, swapped
    return None


def _uses(text: str, name: str) -> bool:
    return name in names_in(text)


class BatchedCode:
    """Forward and backward array code for one schedule; ``line_group`` maps a line to its group."""

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
        self.filename = f"<chainrule compiled {next(_serial)}>"
        linecache.cache[self.filename] = (len(self.source), None, self.source.splitlines(True), self.filename)
        exec(compile(self.source, self.filename, "exec"), self.scope)  # generated from the rule table
        self.forward = self.scope["forward"]
        self.backward = self.scope["backward"]

    # -- reading and writing the buffers ---------------------------------------------------
    def _const(self, name: str, value: Any) -> str:
        key = f"{name}{next(self._names)}"
        self.scope[key] = value
        return key

    def _read(self, nodes: np.ndarray, literal: bool = True) -> str:
        """An expression for the values of ``nodes`` (any shape): a literal, a slice or a take."""
        g, pos = self.graph, self.sched.position[nodes]
        flat = nodes.ravel()
        if literal and (g.kind[flat] == CONST).all() and len({g.value[i] for i in flat.tolist()}) == 1:
            return repr(float(g.value[int(flat[0])]))
        if pos.ndim == 1 and _contiguous(pos):
            return f"V[{pos[0]}:{pos[-1] + 1}]"
        return f"V.take({self._const('i', pos)})"

    def _scatter(self, nodes: np.ndarray, contribution: str) -> list[str]:
        """Lines adding ``contribution`` (one entry per node, flat) into G."""
        if not self.sched.needs_grad[nodes].any():
            return []
        pos = self.sched.position[nodes]
        if len(np.unique(pos)) == len(pos):
            return [self._add_unique(pos, contribution)]
        rows = _tiled(pos)
        if rows > 1:
            # The same positions row after row (a weight used by every sample): sum the rows.
            period = len(pos) // rows
            return [f"c = {contribution}.reshape({rows}, {period}).sum(axis=0)",
                    self._add_unique(pos[:period], "c")]
        uniq, inverse = np.unique(pos, return_inverse=True)
        u, inv = self._const("u", uniq), self._const("v", inverse)
        return [f"G[{u}] += bincount({inv}, {contribution}, {len(uniq)})"]

    def _add_unique(self, pos: np.ndarray, contribution: str) -> str:
        target = f"G[{pos[0]}:{pos[-1] + 1}]" if _contiguous(pos) else f"G[{self._const('s', pos)}]"
        return f"{target} += {contribution}"

    def _record_lines(self, lines: list[str], body: list[str], phase: str, group: Group) -> None:
        lines.append(f"    # level {group.level}: {group.name} x {len(group.nodes)}")
        first = len(lines) + 1
        lines.extend("    " + line for line in body)
        offset = 0 if phase == "forward" else self._offset - 1
        for k in range(first, len(lines) + 1):
            self.line_group[k + offset] = (phase, group)

    # -- forward -------------------------------------------------------------------------
    def _forward(self) -> str:
        s, g = self.sched, self.graph
        ni, npar = g.n_inputs, len(g.param_nodes)
        self.scope["CONSTS"] = s.const_values
        c0, c1 = s.const_start, s.const_start + len(s.const_values)
        lines = ["def forward(I, P, V):", f"    V[0:{ni}] = I",
                 f"    V[{ni}:{ni + npar}] = P", f"    V[{c0}:{c1}] = CONSTS"]
        for group in s.groups:
            make = {"op": self._op_forward, "sum": self._sum_forward, "dot": self._dot_forward}[group.kind]
            body = make(group)
            self._record_lines(lines, body, "forward", group)
        lines.append("    return V")
        return "\n".join(lines)

    def _out(self, group: Group) -> str:
        return f"V[{group.start}:{group.stop}]"

    def _rest(self, group: Group) -> str:
        """The sum of each node's plain terms, or '' when there are none."""
        if not len(group.terms):
            return ""
        width = int(group.counts[0])
        terms = self._read(group.terms.reshape(-1, width), literal=False)
        return f"{terms}.sum(axis=1)" if width > 1 else f"{terms}[:, 0]"

    def _sum_forward(self, group: Group) -> list[str]:
        counts = group.counts.tolist()
        if len(set(counts)) == 1:
            return [f"{self._out(group)} = {self._rest(group)}"]
        terms = self._read(group.terms, literal=False)
        return [f"{self._out(group)} = add.reduceat({terms}, {self._const('r', group.offsets)})"]

    def _dot_forward(self, group: Group) -> list[str]:
        pa, pb = self.sched.position[group.a], self.sched.position[group.b]
        rest = self._rest(group)
        plus = f" + {rest}" if rest else ""
        shape = _matmul(pa, pb)
        group.matmul = None
        if shape is not None:
            s, swapped = shape
            w, x = (group.b, group.a) if swapped else (group.a, group.b)
            j = len(group.nodes) // s
            wn, xn = w.reshape(s, j, -1)[0], x.reshape(s, j, -1)[:, 0]
            group.matmul = (wn, xn)
            # sum_k a_k * b_k over each row: the rule's product, summed, as a matrix product.
            return [f"W = {self._read(wn, literal=False)}", f"X = {self._read(xn, literal=False)}",
                    f"{self._out(group)} = (X @ W.T).ravel(){plus}"]
        product = substitute(vectorised(group.text.forward), {"a": "a", "b": "b"})
        return [f"a = {self._read(group.a, literal=False)}", f"b = {self._read(group.b, literal=False)}",
                f"{self._out(group)} = ({product}).sum(axis=1){plus}"]

    def _op_forward(self, group: Group) -> list[str]:
        lines, names = [f"a = {self._read(group.a)}"], {"a": "a", "p": repr(group.p)}
        if len(group.b):
            lines.append(f"b = {self._read(group.b)}")
            names["b"] = "b"
        lines.append(f"{self._out(group)} = {substitute(vectorised(group.text.forward), names)}")
        return lines

    # -- backward ------------------------------------------------------------------------
    def _backward(self) -> str:
        s, g = self.sched, self.graph
        lines = ["def backward(V, G):", f"    G[{s.position[g.root]}] = 1.0"]
        for group in reversed(s.groups):
            if not s.needs_grad[group.nodes].any():
                continue
            make = {"op": self._op_backward, "sum": self._sum_backward, "dot": self._dot_backward}[group.kind]
            body = make(group)
            if body:
                self._record_lines(lines, body, "backward", group)
        ni, npar = g.n_inputs, len(g.param_nodes)
        lines.append(f"    return G[{ni}:{ni + npar}]")
        return "\n".join(lines)

    def _grad(self, group: Group) -> str:
        return f"G[{group.start}:{group.stop}]"

    def _rest_backward(self, group: Group) -> list[str]:
        if not len(group.terms):
            return []
        width = int(group.counts[0]) if len(set(group.counts.tolist())) == 1 else None
        spread = (f"repeat({self._grad(group)}, {width})" if width is not None
                  else f"repeat({self._grad(group)}, {self._const('n', group.counts)})")
        body = self._scatter(group.terms, "t")
        return [f"t = {spread}", *body] if body else []

    def _sum_backward(self, group: Group) -> list[str]:
        return self._rest_backward(group)

    def _dot_backward(self, group: Group) -> list[str]:
        lines = self._rest_backward(group)
        need = self.sched.needs_grad
        if group.matmul is not None:
            wn, xn = group.matmul
            s = xn.shape[0]
            grad = f"g = {self._grad(group)}.reshape({s}, {wn.shape[0]})"
            # d(sum_k w_k x_k)/dw_k = x_k and /dx_k = w_k (the rule's "b" and "a"), summed over uses.
            body = []
            if need[wn].any():
                body += [f"X = {self._read(xn, literal=False)}", "c = (g.T @ X).ravel()",
                         *self._scatter(wn.ravel(), "c")]
            if need[xn].any():
                body += [f"W = {self._read(wn, literal=False)}", "c = (g @ W).ravel()",
                         *self._scatter(xn.ravel(), "c")]
            return lines + ([grad, *body] if body else [])
        body = []
        for nodes, derivative in ((group.a, group.text.derivatives[0]), (group.b, group.text.derivatives[1])):
            if not need[nodes].any():
                continue
            for used, which in (("a", group.a), ("b", group.b)):
                if _uses(derivative, used) and f"{used} = " not in "".join(body):
                    body.append(f"{used} = {self._read(which, literal=False)}")
            local = substitute(vectorised(derivative), {"a": "a", "b": "b"})
            body += [f"c = (({local}) * g).ravel()", *self._scatter(nodes.ravel(), "c")]
        return lines + ([f"g = {self._grad(group)}[:, None]", *body] if body else [])

    def _op_backward(self, group: Group) -> list[str]:
        text = group.text
        operands = [("a", group.a)] + ([("b", group.b)] if len(group.b) else [])
        lines: list[str] = []
        loaded: set[str] = set()
        names = {"p": repr(group.p), "out": f"V[{group.start}:{group.stop}]", "a": "a", "b": "b"}
        for (_, nodes), derivative in zip(operands, text.derivatives):
            if not self.sched.needs_grad[nodes].any():
                continue
            for used, which in (("a", group.a), ("b", group.b)):
                if used not in loaded and _uses(derivative, used):
                    lines.append(f"{used} = {self._read(which)}")
                    loaded.add(used)
            if is_one(derivative):
                contribution = "g"
            elif is_minus_one(derivative):
                contribution = "-g"
            else:
                contribution = f"({substitute(vectorised(derivative), names)}) * g"
            lines.append(f"c = {contribution}")
            lines.extend(self._scatter(nodes, "c"))
        return [f"g = {self._grad(group)}", *lines] if lines else []
