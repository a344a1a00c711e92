"""The rule table's text, as the compiler reads it: one adapter over ``Rule`` and two rewrites.

Everything the compiler computes comes from the text of a rule: its forward expression and its
local derivatives d(out)/d(operand), over the names ``a``, ``b``, ``p`` and ``out``.
``op_text`` is the only place that reads a ``Rule``'s fields; ``substitute`` renames those
names (for straight-line code) and ``vectorised`` turns ``x if c else y`` into
``where(c, x, y)`` so the same text runs on numpy arrays.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache

from ..rules import Rule

__all__ = ["OpText", "op_text", "substitute", "vectorised", "names_in", "is_one", "is_minus_one"]


@dataclass(frozen=True)
class OpText:
    """What the compiler needs of one rule: text to compute the output and each local derivative.

    Where the rule's ``log`` is 0 at 0 (``log_at_zero``, the limit of ``out * log(a)``), the
    derivatives here call ``exponent_log`` instead, so every backend runs them as written.
    """

    name: str
    arity: int
    forward: str
    derivatives: tuple[str, ...]


@cache
def op_text(rule: Rule) -> OpText | None:
    """The rule's text, or None when the rule has none to compile (an op written as a function)."""
    forward = rule.out
    derivatives = rule.local_code
    if not isinstance(forward, str) or not derivatives or not all(isinstance(d, str) for d in derivatives):
        return None
    if rule.log_at_zero:
        derivatives = [substitute(d, {"log": "exponent_log"}) for d in derivatives]
    return OpText(rule.name, rule.arity, forward, tuple(derivatives))


def is_one(text: str) -> bool:
    """True for a derivative that is the constant 1 (``+``'s): the chain rule passes the grad on."""
    return text.strip() in ("1", "1.0")


def is_minus_one(text: str) -> bool:
    """True for a derivative that is the constant -1."""
    return text.strip() in ("-1", "-1.0")


class _Mark(ast.NodeTransformer):
    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            node.id = f"__{node.id}__"
        return node


@cache
def _template(text: str, names: frozenset[str]) -> str:
    """``text`` as a format string with a ``{name}`` field for each of ``names``."""
    tree = _Mark(names).visit(ast.parse(text, mode="eval"))
    template = ast.unparse(tree).replace("{", "{{").replace("}", "}}")
    for name in names:
        template = template.replace(f"__{name}__", "{" + name + "}")
    return template


_ATOM = re.compile(r"[A-Za-z_][\w.]*(\[[^\[\]]*\])?|\d[\d.]*(e[+-]?\d+)?")


def substitute(text: str, names: dict[str, str]) -> str:
    """``text`` with each name in ``names`` replaced by an expression (parenthesised unless it
    is a name, a subscript or a non-negative number).

    >>> substitute("1 - out**2", {"out": "h"})
    '1 - h ** 2'
    """
    fields = {k: v if _ATOM.fullmatch(v) else f"({v})" for k, v in names.items()}
    return _template(text, frozenset(names)).format(**fields)


@cache
def names_in(text: str) -> frozenset[str]:
    """Every name the text reads (operands and functions)."""
    return frozenset(n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name))


class _Where(ast.NodeTransformer):
    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(func=ast.Name("where", ast.Load()), args=[node.test, node.body, node.orelse],
                        keywords=[])
        return ast.copy_location(call, node)


@cache
def vectorised(text: str) -> str:
    """``text`` for numpy arrays: each ``x if cond else y`` becomes ``where(cond, x, y)``.

    >>> vectorised("a if a > 0 else 0.0")
    'where(a > 0, a, 0.0)'
    """
    return ast.unparse(_Where().visit(ast.parse(text, mode="eval")))
