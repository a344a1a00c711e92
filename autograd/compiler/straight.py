"""Straight-line float code: the recorded graph written out, one statement per op.

This is both a backend (for small graphs, plain Python floats beat numpy's per-call cost)
and what ``program.source`` shows: the chain rule written out. ``forward`` computes each
node from the rule's forward text; ``backward`` walks the nodes in reverse and adds each
operand's contribution, ``d_a += <local derivative from the table> * d_out``, the same
arithmetic in the same order as the engine's ``backward()``. Variables are named after
labels (``layers_0_neurons_3_w_1``, ``X_2_0``) where there are labels, ``t12`` elsewhere.
"""

from __future__ import annotations

import ast
import keyword
import linecache
import re
from functools import cache
from itertools import count

import numpy as np

from ..rules import FLOAT_NAMES
from .record import CONST, OP, PARAM, Graph
from .texts import is_minus_one, is_one, names_in, substitute

__all__ = ["FloatCode"]

_serial = count()
_RESERVED = set(FLOAT_NAMES) | {"inputs", "params", "state", "exponent_log", "forward", "backward", "None"}


def _identifier(label: str, fallback: str) -> str:
    name = re.sub(r"\W+", "_", label).strip("_")
    if not name:
        return fallback
    if name[0].isdigit():
        name = "v_" + name
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    return name


def _wrap(names: list[str], indent: str) -> list[str]:
    """``(a, b, c, ...)`` split over lines of about 100 characters."""
    lines, line = [], ""
    for name in names:
        piece = name + ", "
        if line and len(indent) + 4 + len(line) + len(piece) > 100:
            lines.append(indent + "    " + line.rstrip())
            line = ""
        line += piece
    if line:
        lines.append(indent + "    " + line.rstrip())
    return lines


def _tuple(items: list[str]) -> str:
    """Python source of a tuple of ``items`` (``(x,)`` for one)."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


@cache
def _simple(text: str) -> bool:
    return isinstance(ast.parse(text, mode="eval").body, (ast.Name, ast.Constant, ast.Call, ast.Attribute))


class FloatCode:
    """Readable straight-line source for a graph, and (``exec``-ed) its forward and backward."""

    def __init__(self, graph: Graph, build: bool = True) -> None:
        self.graph = graph
        self.needs_grad = _needs_grad(graph)
        self.names = self._name_nodes()
        self.line_node: dict[int, tuple[str, int]] = {}  # line number -> (phase, node): errors
        self.backward_line: dict[tuple[int, int], int] = {}  # (node, operand slot) -> its line in backward
        self.seed_line = self.return_line = 0  # ``d_<root> = 1.0``; ``return (<the parameters' d_>)``
        self.source = self._source()
        if build:
            self.filename = f"<chainrule straight-line {next(_serial)}>"
            linecache.cache[self.filename] = (len(self.source), None, self.source.splitlines(True),
                                              self.filename)
            scope = dict(FLOAT_NAMES)  # the functions rule text calls, on floats
            exec(compile(self.source, self.filename, "exec"), scope)  # generated from the rule table
            self.forward, self.backward = scope["forward"], scope["backward"]

    def _name_nodes(self) -> list[str]:
        g, taken, names = self.graph, set(), []
        for i in range(len(g)):
            if g.kind[i] == CONST:
                names.append(repr(float(g.value[i])))
                continue
            base = _identifier(g.label[i], f"t{i}")
            if g.kind[i] == OP and g.label[i] and g.sample[i] >= 0:
                base += f"_s{g.sample[i]}"
            name, k = base, 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            taken.add(name)
            names.append(name)
        return names

    def _source(self) -> str:
        g, names = self.graph, self.names
        inputs = sorted((int(g.input_slot[i]), i) for i in np.flatnonzero(g.input_slot >= 0).tolist())
        lines = ["def forward(inputs, params):",
                 '    """The recorded graph on new inputs and parameters: output, extra outputs, state."""']
        if inputs:
            lines += ["    (", *_wrap([names[i] for _, i in inputs], "    "), "    ) = inputs"]
        if len(g.param_nodes):
            lines += ["    (", *_wrap([names[i] for i in g.param_nodes.tolist()], "    "), "    ) = params"]
        for i in range(len(g)):
            if g.kind[i] != OP:
                continue
            text = g.text[i]
            env = {"a": names[g.a[i]], "p": repr(g.p[i])}
            if g.b[i] >= 0:
                env["b"] = names[g.b[i]]
            lines.append(f"    {names[i]} = {substitute(text.forward, env)}")
            self.line_node[len(lines)] = ("forward", i)
        for guard in g.guards:
            test = f"{names[guard.lhs]} {guard.op} {names[guard.rhs]}"
            lines.append(f"    if {'not ' if guard.expected else ''}({test}):  # {guard.where}")
            lines.append("        return None  # the branch went the other way: record again")
        aux = [f"[{', '.join(names[int(j)] for j in ids.ravel())}]" for ids in g.aux]
        read = self._read_by_backward()
        kept = [names[i] for i in range(len(g)) if i in read]
        if kept:
            lines += ["    state = (", *_wrap(kept, "    "), "    )"]
        lines.append(f"    return {names[g.root]}, {_tuple(aux)}, {'state' if kept else '()'}")
        lines += ["", "", "def backward(state):",
                  '    """d(output)/d(parameter) for each parameter, by the chain rule, last op first."""']
        if kept:
            lines += ["    (", *_wrap(kept, "    "), "    ) = state"]
        lines.append(f"    d_{names[g.root]} = 1.0")
        self.seed_line = len(lines)
        assigned = {g.root}
        for i in range(len(g) - 1, -1, -1):
            if g.kind[i] != OP or not self.needs_grad[i]:
                continue
            text = g.text[i]
            env = {"a": names[g.a[i]], "p": repr(g.p[i]), "out": names[i]}
            if g.b[i] >= 0:
                env["b"] = names[g.b[i]]
            operands = [g.a[i]] + ([g.b[i]] if g.b[i] >= 0 else [])
            for slot, (j, derivative) in enumerate(zip(operands, text.derivatives)):
                if not self.needs_grad[j]:
                    continue
                upstream = f"d_{names[i]}"
                if is_one(derivative):
                    term, sign = upstream, "+"
                elif is_minus_one(derivative):
                    term, sign = upstream, "-"
                else:
                    local = substitute(derivative, env)
                    local = local if _simple(local) else f"({local})"
                    term, sign = f"{local} * {upstream}", "+"
                if j in assigned:
                    lines.append(f"    d_{names[j]} {sign}= {term}")
                else:
                    lines.append(f"    d_{names[j]} = {'-' if sign == '-' else ''}{term}")
                    assigned.add(j)
                self.line_node[len(lines)] = ("backward", i)
                self.backward_line[(i, slot)] = len(lines)
        grads = [f"d_{names[i]}" if i in assigned else "0.0" for i in g.param_nodes.tolist()]
        lines.append(f"    return ({', '.join(grads)}{',' if len(grads) == 1 else ''})")
        self.return_line = len(lines)
        return "\n".join(lines) + "\n"

    def _read_by_backward(self) -> set[int]:
        """The nodes whose values some local derivative in backward reads."""
        g, read = self.graph, set()
        for i in range(len(g)):
            if g.kind[i] != OP or not self.needs_grad[i]:
                continue
            operands = [g.a[i]] + ([g.b[i]] if g.b[i] >= 0 else [])
            for j, derivative in zip(operands, g.text[i].derivatives):
                if self.needs_grad[j]:
                    used = names_in(derivative)
                    read.update(node for name, node in (("a", g.a[i]), ("b", g.b[i]), ("out", i))
                                if name in used and node >= 0 and g.kind[node] != CONST)
        return read


def _needs_grad(graph: Graph) -> list[bool]:
    """Per node: on a path from a parameter to the root (only these get a d_ variable)."""
    n, kind, a, b = len(graph), graph.kind.tolist(), graph.a.tolist(), graph.b.tolist()
    from_param = [k == PARAM for k in kind]
    for i in range(n):
        if kind[i] == OP:
            from_param[i] = from_param[a[i]] or (b[i] >= 0 and from_param[b[i]])
    to_root = [False] * n
    to_root[graph.root] = True
    for i in range(n - 1, -1, -1):
        if to_root[i] and kind[i] == OP:
            to_root[a[i]] = True
            if b[i] >= 0:
                to_root[b[i]] = True
    return [f and t for f, t in zip(from_param, to_root)]


