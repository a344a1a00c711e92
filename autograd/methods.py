"""Value's operators and methods, generated from the rule table's text.

Each generated method computes the output and the local derivatives d(out)/d(operand) on
floats, from exactly the text in ``rules.py``, and stores both in the new node: ``backward()``
then only multiplies and adds, with no call per node. Read what was generated with
``autograd.methods.SOURCES['__mul__']``.
"""

from __future__ import annotations

import linecache
from typing import Any

from . import mode
from .rules import FLOAT_NAMES, RULES, Rule

__all__ = ["SOURCES", "install"]

SOURCES: dict[str, str] = {}
"""The source of every generated method, by name, for reading."""

_BINARY_HEAD = '''
def method(self, other):
    """{doc}"""
    if type(other) is not Value:
        other = const(other)
        if other is None:
            return NotImplemented
    x, y = {operands}
    a = x.data
    b = y.data
'''

_UNARY_HEAD = '''
def method(self{signature}):
    """{doc}"""
{parameter}    a = self.data
'''

# The output and, while recording, the operands {x} and {y} and the local derivatives.
_NODE = '''
    out = {value}
    node = new(Value)
    node.data = out
    node.grad = 0.0
    node.label = ""
    if mode.enabled:
        node._rule = RULE
        node._a = {x}
        node._b = {y}
        node._p = {p}
        node._da = {da}
        node._db = {db}
    else:
        node._rule = node._a = node._b = node._p = node._da = node._db = None
    return node
'''

# method name -> (rule, docstring); binary names also get their reflected twin (__radd__, ...)
BINARY = {
    "__add__": ("+", "self + other"),
    "__sub__": ("-", "self - other"),
    "__mul__": ("*", "self * other"),
    "__truediv__": ("/", "self / other; ZeroDivisionError naming both operands when other is 0"),
}
UNARY = {
    "__neg__": ("neg", "-self"),
    "exp": ("exp", "e ** self; OverflowError naming exp past about 709.78"),
    "log": ("log", "Natural logarithm; OpError (a ValueError) for self <= 0"),
    "sqrt": ("sqrt", "Square root; OpError (a ValueError) for self < 0"),
    "tanh": ("tanh", "Hyperbolic tangent"),
    "sigmoid": ("sigmoid", "1 / (1 + e ** -self), finite for every finite input"),
    "relu": ("relu", "max(self, 0); its derivative at 0 is 0"),
    "leaky_relu": ("leaky_relu", "self if self > 0 else alpha * self"),
    "abs": ("abs", "|self|; its derivative at 0 is 0"),
    "sin": ("sin", "Sine (radians)"),
    "cos": ("cos", "Cosine (radians)"),
    "softplus": ("softplus", "log(1 + e ** self), finite for every finite input"),
}
PARAMETERS = {"leaky_relu": ("alpha", 0.01)}


def _source(name: str, rule: Rule, doc: str, reflected: bool = False) -> str:
    lazy = rule.lazy
    if rule.arity == 2:
        head = _BINARY_HEAD.format(doc=doc, operands="other, self" if reflected else "self, other")
        return head + _NODE.lstrip("\n").format(
            value=rule.value, x="x", y="y", p=None, da="None" if lazy else rule.runs[0],
            db="None" if lazy else rule.runs[1],
        )
    parameter, signature, p = "", "", "None"
    if name in PARAMETERS:
        arg, default = PARAMETERS[name]
        signature = f", {arg}={default!r}"
        parameter = f'    p = as_float({arg}, "{name}({arg})")\n'
        p = "p"
    head = _UNARY_HEAD.format(doc=doc, signature=signature, parameter=parameter)
    return head + _NODE.lstrip("\n").format(value=rule.value, x="self", y="None", p=p,
                                            da="None" if lazy else rule.runs[0], db="None")


def _define(source: str, name: str, rule: Rule, names: dict[str, Any]) -> Any:
    source = source.strip() + "\n"
    filename = f"<chainrule: Value.{name}, from rule {rule.name!r}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # for tracebacks
    scope = dict(names, RULE=rule)
    exec(compile(source, filename, "exec"), scope)  # text from rules.py, not user input
    method = scope["method"]
    method.__name__, method.__qualname__ = name, f"Value.{name}"
    SOURCES[name] = source
    return method


def install(value_class: type, const: Any, as_float: Any) -> None:
    """Add the generated operators and methods to ``value_class``."""
    names = dict(FLOAT_NAMES, Value=value_class, new=object.__new__, const=const, mode=mode,
                 as_float=as_float)
    for name, (op, doc) in BINARY.items():
        rule = RULES[op]
        setattr(value_class, name, _define(_source(name, rule, doc), name, rule, names))
        rname = "__r" + name[2:]
        rdoc = doc.replace("self", "OTHER").replace("other", "self").replace("OTHER", "other")
        setattr(value_class, rname, _define(_source(rname, rule, rdoc, reflected=True), rname, rule, names))
    for name, (op, doc) in UNARY.items():
        rule = RULES[op]
        setattr(value_class, name, _define(_source(name, rule, doc), name, rule, names))
    value_class.__abs__ = value_class.abs
