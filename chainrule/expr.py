"""Safe arithmetic expressions on Values: parsed with ``ast`` against an allow-list, never ``eval``."""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Mapping

from chainrule.autograd import RULES, Value
from chainrule.autograd.methods import UNARY

__all__ = ["ExprError", "ResultError", "FUNCTIONS", "parse_bindings", "build"]

MAX_LENGTH = 500
MAX_DEPTH = 60

# Every method the engine generates from its rule table (leaky_relu takes an optional slope).
FUNCTIONS = {name: getattr(Value, name) for name in UNARY if not name.startswith("_")}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b,
}
# Two plain numbers go through the engine's checked float functions, so a constant part
# such as (-8) ** (1/3) is refused as it would be on Values, never a complex number.
_CHECKED = {
    ast.Add: RULES["+"].forward,
    ast.Sub: RULES["-"].forward,
    ast.Mult: RULES["*"].forward,
    ast.Div: RULES["/"].forward,
    ast.Pow: RULES["**"].forward,
}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}
_WHAT = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
    ast.Compare: "comparisons", ast.BoolOp: "boolean operators", ast.IfExp: "conditional expressions",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
    ast.JoinedStr: "f-strings", ast.Starred: "starred arguments", ast.NamedExpr: "assignments",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
}


class ExprError(ValueError):
    """An expression or a binding that chainrule will not evaluate; the message points at it."""


class ResultError(ExprError):
    """A valid expression whose value or gradient is not a finite float; the message names the part."""


def _chars(text: str, byte_offset: int) -> int:
    """ast counts columns in UTF-8 bytes; the user counts characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _span(text: str, node: ast.AST) -> tuple[int, int]:
    """The characters of ``text`` that ``node`` was parsed from."""
    col = _chars(text, getattr(node, "col_offset", 0))
    end = getattr(node, "end_col_offset", None)
    return col, (_chars(text, end) if end is not None else col + 1)


def _point(text: str, node: ast.AST, why: str, error: type[ExprError] = ExprError) -> ExprError:
    """One line naming the offending part of ``text`` and its column."""
    col, end = _span(text, node)
    return error(f"{why}: {text[col:end]!r} at column {col + 1}")


def _typed(text: str, node: ast.Name) -> str:
    """A name as the user typed it: Python's parser NFKC-normalises identifiers ('ﬁ' -> 'fi')."""
    col, end = _span(text, node)
    return text[col:end]


def parse_bindings(pairs: list[str]) -> dict[str, float]:
    """``['a=2', 'b=-3']`` -> ``{'a': 2.0, 'b': -3.0}``, with an error naming a bad pair."""
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExprError(f"{pair!r}: expected NAME=VALUE, e.g. a=2.5")
        if name in FUNCTIONS:
            raise ExprError(f"{pair!r}: {name!r} is a function name and cannot be a variable")
        if name in out:
            raise ExprError(f"{pair!r}: {name!r} is given twice")
        try:
            value = float(raw)
        except ValueError:
            raise ExprError(f"{pair!r}: {raw.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise ExprError(f"{pair!r}: the value must be a finite number")
        out[name] = value
    return out


def build(text: str, bindings: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Evaluate ``text`` on labelled leaf Values; returns the output and the leaves by name."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        with warnings.catch_warnings():
            # "1if" warns (invalid decimal literal) before failing: make the warning the one error.
            warnings.simplefilter("error", SyntaxWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        col = err.offset or 1
        raise ExprError(f"not a valid expression ({err.msg}) at column {col}: {text.strip()!r}") from None
    text = text.strip()
    leaves = {name: Value(value, label=name) for name, value in bindings.items()}
    used: set[str] = set()

    def ev(node: ast.AST, depth: int):
        if depth > MAX_DEPTH:
            raise _point(text, node, f"the expression nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise _point(text, node, f"only numbers are allowed as constants, not {node.value!r}")
            try:
                value = float(node.value)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value):
                raise _point(text, node, "the number is too large for a float")
            return value
        if isinstance(node, ast.Name):
            name = _typed(text, node)
            if name in FUNCTIONS:
                raise _point(text, node, f"{name!r} is a function: call it, e.g. {name}(x)")
            if name not in leaves:
                raise _point(text, node, f"no value given for {name!r}: add {name}=NUMBER")
            used.add(name)
            return leaves[name]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = ev(node.left, depth + 1), ev(node.right, depth + 1)
            if isinstance(left, Value) or isinstance(right, Value):
                return finite(node, lambda: _BINARY[type(node.op)](left, right))
            try:
                value = _CHECKED[type(node.op)](left, right)
            except (ArithmeticError, ValueError) as err:
                raise _point(text, node, f"cannot compute this constant part ({err})", ResultError) from None
            if not math.isfinite(value):
                raise _point(text, node, "this constant part is too large for a float", ResultError)
            return value
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            operand = ev(node.operand, depth + 1)
            return finite(node, lambda: _UNARY[type(node.op)](operand))
        if isinstance(node, ast.Call):
            return call(node, depth)
        what = _WHAT.get(type(node), f"{type(node).__name__} nodes")
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            what = f"the operator {type(node.op).__name__}"
        raise _point(text, node, f"not allowed: {what}; use numbers, names, + - * / ** and functions")

    def finite(node: ast.AST, compute):
        """``compute()`` one step on Values; an overflow or a domain error names this step."""
        try:
            value = compute()
        except (ArithmeticError, ValueError) as err:
            if isinstance(err, ExprError):
                raise
            raise _point(text, node, f"cannot compute ({err})", ResultError) from None
        number = value.data if isinstance(value, Value) else value
        if not math.isfinite(number):
            raise _point(text, node, f"the value is {number!r}, beyond a float", ResultError)
        return value

    def call(node: ast.Call, depth: int):
        name = _typed(text, node.func) if isinstance(node.func, ast.Name) else ""
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise _point(text, node.func, f"only these functions can be called: {allowed}")
        if node.keywords:
            raise _point(text, node.keywords[0].value, f"{name}() takes no keyword arguments")
        nargs = len(node.args)
        if not (nargs == 1 or (name == "leaky_relu" and nargs == 2)):
            takes = "1 or 2 arguments (x, slope)" if name == "leaky_relu" else "exactly 1 argument"
            raise _point(text, node, f"{name}() takes {takes}, got {nargs}")
        x = ev(node.args[0], depth + 1)
        x = x if isinstance(x, Value) else Value(x)
        if nargs == 2:
            slope = ev(node.args[1], depth + 1)
            if isinstance(slope, Value):
                raise _point(text, node.args[1], "leaky_relu's slope must be a number")
            return finite(node, lambda: FUNCTIONS[name](x, slope))
        return finite(node, lambda: FUNCTIONS[name](x))

    try:
        out = ev(tree.body, 0)
    except (ArithmeticError, ValueError) as err:
        if isinstance(err, ExprError):
            raise
        raise ExprError(f"cannot evaluate {text!r}: {err}") from None
    unused = sorted(set(leaves) - used)
    if unused:
        raise ExprError(f"given but not used in the expression: {', '.join(unused)}")
    if not isinstance(out, Value):
        out = Value(out)
    out.label = "out"
    return out, leaves
