"""The backward pass as data: every edge's local derivative, upstream grad and contribution.

``trace(root)`` replays what ``root.backward()`` does, without touching any ``.grad``: the
explain text and the step-through page read this one record, so both agree with the engine
by construction and the tests check the record against the engine's grads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chainrule.autograd import Value, topo_order

from .escape import printable
from .style import fmt

__all__ = ["Step", "Trace", "trace", "node_names", "rule_text", "derivative_text", "operand_names"]


@dataclass(frozen=True)
class Step:
    """One edge of the backward pass: ``node`` passes part of its grad to operand ``slot``."""

    node: int            # topo index of the node whose grad is passed back
    slot: int            # operand position in node._prev (0 = a, 1 = b)
    child: int           # topo index of that operand
    formula: str         # the rule for d(node)/d(operand), e.g. "b"
    local: float         # its value
    upstream: float      # d(root)/d(node)
    contribution: float  # upstream * local
    before: float        # the operand's running total before this edge
    total: float         # ... and after it
    count: int           # how many contributions the operand has received so far


@dataclass(frozen=True)
class Trace:
    """A replayed backward pass: nodes in topo order, steps in the order backward takes them."""

    nodes: list[Value]
    names: list[str]
    steps: list[Step]
    grads: list[float]   # d(root)/d(node) for every node, by topo index

    def backward_order(self) -> range:
        """Topo indices in the order backward visits them: reverse topological, root first."""
        return range(len(self.nodes) - 1, -1, -1)

    def steps_of(self, node: int) -> list[Step]:
        """The steps in which ``node`` passes its grad to its operands."""
        return [s for s in self.steps if s.node == node]


def node_names(nodes: list[Value], one_line: bool = True) -> list[str]:
    """A short name per node: its label, ``(2)`` for a constant 2, else ``v<topo index>``.

    Labels go through :func:`printable`; with ``one_line`` a newline is shown as ``\\n`` so
    a name never breaks a line of text.
    """
    def name(i: int, v: Value) -> str:
        if not v.label:
            return f"({fmt(v.data)})" if v.is_constant else f"v{i}"
        text = printable(v.label)
        return text.replace("\n", "\\n") if one_line else text

    return [name(i, v) for i, v in enumerate(nodes)]


_TOKEN = re.compile(r"\b(a|b|p|out)\b")
_WHOLE_FLOAT = re.compile(r"(?<![\w.])(\d+)\.0(?![\w.])")


def rule_text(template: str, names: dict[str, str]) -> str:
    """``template`` (a rule's formula or math) with a, b, p and out replaced by ``names``.

    Float literals that are whole numbers lose their ``.0`` (``1.0 - out * out`` reads
    ``1 - out * out``): the rule table is code, the picture is for people.
    """
    plain = _WHOLE_FLOAT.sub(r"\1", template)  # before names go in: a label may read "1.0"
    return _TOKEN.sub(lambda m: names.get(m.group(1), m.group(1)), plain)


def derivative_text(rule: str, local: str) -> str:
    """``rule = value``, or just the value when the rule is that number already (``1``)."""
    return rule if rule == local else f"{rule} = {local}"


def operand_names(node: Value, index: dict[Value, int], names: list[str]) -> dict[str, str]:
    """The words a node's rule uses (a, b, p, out) mapped to names in this graph."""
    out = {"out": names[index[node]]}
    for letter, operand in zip("ab", node._prev):
        out[letter] = names[index[operand]]
    if node._p is not None:
        out["p"] = fmt(node._p, 6)
    return out


def trace(root: Value, seed: float = 1.0) -> Trace:
    """Replay ``root.backward()`` from a fresh start, recording every edge in backward order."""
    if not isinstance(root, Value):
        raise TypeError(f"expected the Value to differentiate, got {type(root).__name__}")
    nodes = topo_order(root)
    index = {v: i for i, v in enumerate(nodes)}
    grads = [0.0] * len(nodes)
    counts = [0] * len(nodes)
    grads[index[root]] = seed
    steps: list[Step] = []
    for i in range(len(nodes) - 1, -1, -1):  # backward's order: reverse topological
        node = nodes[i]
        if node.is_leaf:
            continue
        try:
            locals_ = node.local_grads()
        except (ArithmeticError, ValueError) as err:
            raise type(err)(f"local derivative of the {node._op!r} node v{i}: {err}") from err
        upstream = grads[i]
        for slot, (child, local) in enumerate(zip(node._prev, locals_)):
            c = index[child]
            contribution = local * upstream
            before = grads[c]
            grads[c] = before + contribution
            counts[c] += 1
            steps.append(Step(i, slot, c, node.rule.local[slot], local, upstream,
                              contribution, before, grads[c], counts[c]))
    return Trace(nodes, node_names(nodes), steps, grads)
