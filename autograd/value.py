"""``Value``: one float, the operands it came from, and its gradient."""

from __future__ import annotations

import numbers
from typing import Any

from . import methods, mode
from .rules import CONST, RULES, Rule

__all__ = ["Value", "Number"]

Number = int | float

_POW, _POWC, _RPOW = RULES["**"], RULES["pow"], RULES["rpow"]
_ALIASES = {"ReLU": "relu"}  # micrograd's name for relu, for nodes built by hand


def _as_float(x: Any, where: str) -> float:
    """The float value of a real number, or a TypeError that says what was given."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return float(x)
    raise TypeError(f"{where} must be a real number (int or float), got {type(x).__name__}: {x!r}")


class Value:
    """A scalar that remembers how it was computed, so ``backward()`` can differentiate it.

    ``data`` is the float, ``grad`` is d(root)/d(this) after ``root.backward()``. The graph
    is stored as plain data: ``_rule`` is the op's row in the rule table, ``_a`` and ``_b``
    its operands (``_b`` is None for a one-operand op), ``_p`` the op's constant parameter
    (the 3 of ``x ** 3``) and ``_da``/``_db`` the local derivatives d(self)/d(operand),
    computed when the node is built (None where the rule is lazy). There is no closure per
    node, so a graph holds no reference cycles.

    The constructor mirrors micrograd's lecture version, ``Value(data, _children, _op,
    label)``; ``_children`` and ``_op`` are only needed to build a node by hand.
    """

    __slots__ = ("data", "grad", "label", "_rule", "_a", "_b", "_p", "_da", "_db")

    def __init__(self, data: Number, _children: tuple = (), _op: str = "", label: str = "") -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use .detach() for a copy")
        self.data = _as_float(data, "Value(data)")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value(label=...) must be a str, got {type(label).__name__}")
        self.label = label
        self._rule: Rule | None = None
        self._a = self._b = self._p = self._da = self._db = None
        if _children or _op:
            self._attach(tuple(_children), _op)

    def _attach(self, children: tuple, op: str) -> None:
        """Make this a node built by hand, as the lecture's operators do: ``Value(x, (a,), 'tanh')``."""
        rule, param = RULES.get(_ALIASES.get(op, op)), None
        if op.startswith("**") and len(children) == 1:  # the lecture's f'**{other}' node
            try:
                rule, param = _POWC, float(op[2:])
            except ValueError:
                rule = None
        elif rule is not None and rule.name in ("pow", "rpow", "leaky_relu"):
            rule = None  # these need a parameter, which an op name alone does not carry
        if rule is None or rule.arity != len(children):
            needs_param = ("pow", "rpow", "leaky_relu")
            known = ", ".join(repr(n) for n, r in RULES.items() if r.name not in needs_param)
            raise ValueError(
                f"Value(data, _children, _op): cannot build a {op!r} node with {len(children)} "
                f"operand(s); ops with operands are {known} and '**NUMBER' "
                "(or use the operators and methods instead)"
            )
        for c in children:
            if not isinstance(c, Value):
                raise TypeError(f"Value(_children=...) must hold Values, got {type(c).__name__}")
        self._rule = rule
        self._a = children[0]
        self._b = children[1] if len(children) == 2 else None
        self._p = param

    # -- reading the graph -------------------------------------------------------------
    @property
    def _prev(self) -> tuple[Value, ...]:
        """The operands in order, duplicates kept (``a + a`` has two)."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def _op(self) -> str:
        """The op's short name as micrograd draws it: ``'+'``, ``'tanh'``, ``'**2'``; ``''`` for a leaf."""
        rule = self._rule
        if rule is None or rule is CONST:
            return ""
        if rule is _POWC:
            return f"**{_num(self._p)}"
        if rule is _RPOW:
            return f"{_num(self._p)}**"
        return rule.name

    @property
    def rule(self) -> Rule | None:
        """This node's entry in the rule table (None for a leaf)."""
        return None if self._rule is CONST else self._rule

    @property
    def is_leaf(self) -> bool:
        """True for an input, parameter or constant: a Value with no operands."""
        return self._a is None

    @property
    def is_constant(self) -> bool:
        """True for a leaf that an op made from a plain number (the ``2`` in ``2 * x``)."""
        return self._rule is CONST

    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(operand_i) for each operand in ``_prev`` order; ``()`` for a leaf."""
        if self._a is None:
            return ()
        if self._da is not None:
            return (self._da,) if self._b is None else (self._da, self._db)
        b = self._p if self._b is None else self._b.data
        return self._rule.local(self._a.data, b, self.data)

    def _backward(self) -> None:
        """Pass this node's grad to its operands once (the lecture calls it by hand)."""
        for child, local in zip(self._prev, self.local_grads()):
            child.grad += local * self.grad

    def backward(self) -> None:
        """Fill ``.grad`` of every node in this graph with d(self)/d(node).

        Leaves (inputs, parameters) accumulate across calls, as in PyTorch and micrograd:
        call ``zero_grad()`` between steps. Intermediate nodes are reset at the start of
        each call, so they always show the gradient of the latest pass and a second
        ``backward()`` never double-counts them.
        """
        from .engine import backward

        backward(self)

    def detach(self) -> Value:
        """A new leaf with the same data (and label), cut off from this graph."""
        return Value(self.data, label=self.label)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    # -- ordering compares the numbers; == stays identity so Values can live in sets ----
    # While compile() records, _watch sees each comparison (a branch on data to re-check).
    def __lt__(self, other: Any) -> bool:
        x = _cmp(other)
        if x is None:
            return NotImplemented
        if _watch is not None:
            _watch(self, other, "<", self.data < x)
        return self.data < x

    def __le__(self, other: Any) -> bool:
        x = _cmp(other)
        if x is None:
            return NotImplemented
        if _watch is not None:
            _watch(self, other, "<=", self.data <= x)
        return self.data <= x

    def __gt__(self, other: Any) -> bool:
        x = _cmp(other)
        if x is None:
            return NotImplemented
        if _watch is not None:
            _watch(self, other, ">", self.data > x)
        return self.data > x

    def __ge__(self, other: Any) -> bool:
        x = _cmp(other)
        if x is None:
            return NotImplemented
        if _watch is not None:
            _watch(self, other, ">=", self.data >= x)
        return self.data >= x

    def __bool__(self) -> bool:
        """Always True, as for any object; compile() refuses it while recording (see compiler)."""
        if _watch is not None:
            _watch(self, None, "bool", True)
        return True

    __hash__ = object.__hash__

    # -- arithmetic: + - * / unary minus and the methods (exp, tanh, relu, ...) are
    # generated from the rule table by methods.py; powers dispatch on the exponent here.
    def __pow__(self, other: Any) -> Value:
        if isinstance(other, Value):
            return _node(_POW.forward(self.data, other.data), _POW, self, other, None)
        if not isinstance(other, numbers.Real):
            return NotImplemented
        # A constant exponent is a parameter of the op, as in micrograd's '**2' node.
        other = float(other)
        return _node(_POWC.forward(self.data, other), _POWC, self, None, other)

    def __rpow__(self, other: Any) -> Value:
        if not isinstance(other, numbers.Real):
            return NotImplemented
        other = float(other)
        return _node(_RPOW.forward(self.data, other), _RPOW, self, None, other)

    def __pos__(self) -> Value:
        return self


_new = object.__new__

_watch: Any = None
"""Set by ``compile()`` while it records: called with each comparison made on a Value."""


def _node(data: float, rule: Rule, a: Value, b: Value | None, p: float | None) -> Value:
    """A node of a lazy rule (derivatives computed in backward); a leaf under ``no_grad``."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    if mode.enabled:
        v._rule, v._a, v._b, v._p = rule, a, b, p
    else:
        v._rule = v._a = v._b = v._p = None
    v._da = v._db = None
    return v


def _const(x: Any) -> Value | None:
    """A constant leaf for a plain number, or None when x is not a real number."""
    if type(x) is float or type(x) is int or (isinstance(x, numbers.Real) and not isinstance(x, Value)):
        v = _new(Value)
        v.data = float(x)
        v.grad = 0.0
        v.label = ""
        v._rule = CONST
        v._a = v._b = v._p = v._da = v._db = None
        return v
    if isinstance(x, Value):  # a subclass of Value
        return x
    return None


def _cmp(x: Any) -> float | None:
    """The number to compare with, or None (so Python tries the other side, e.g. a numpy array)."""
    if isinstance(x, Value):
        return x.data
    return float(x) if isinstance(x, numbers.Real) else None


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


methods.install(Value, _const, _as_float)
