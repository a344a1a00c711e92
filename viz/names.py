"""Names: ``nn``'s naming convention, read in this one place, and a readable name for every node.

``nn`` labels each parameter with its qualified name (``layers.0.neurons.3.w.1``,
``layers.0.neurons.3.b``) and each neuron call's output with the neuron's name
(``layers.0.neurons.3``). Everything in viz that reads those names goes through here.

A node's name is its label when it has one (a user's label always wins), ``(2)`` for a
constant 2, and otherwise a short name derived from where it sits: inside a neuron, its
products read ``w.1·x.1`` (weight 1 times the neuron's input 1), its running sums ``Σw·x.0..1``
and its pre-activation ``z``, each after the neuron's name; elsewhere the expression itself
(``(a*b)``, ``tanh(n)``, a second node computing it ``(a*b)#2``) while it is short, else
the op and a count (``sum3``, ``tanh2``). Unlabelled leaves are ``leaf1``, ``leaf2``, ...
"""

from __future__ import annotations

import re
from collections.abc import Callable

from chainrule.autograd import Value

from .escape import printable
from .style import fmt

__all__ = ["looks_like_parameter", "module_of", "weight_index", "is_bias", "layer_of", "node_names",
           "short_name", "MAX_EXPRESSION"]

_PARAM = re.compile(r"\.(w\.(\d+)|b)$")
_NEURON = re.compile(r"^(?:(.*)\.)?neurons\.\d+$")
MAX_EXPRESSION = 16  # an unlabelled node is named by its expression up to this many characters


def looks_like_parameter(label: str) -> bool:
    """True for nn's parameter names: ``<module>.w.<i>`` or ``<module>.b`` (``neuron.b``,
    ``layers.0.neurons.3.w.1``); a bare ``b`` or ``w`` is a user's input."""
    return bool(_PARAM.search(label))


def module_of(label: str) -> str | None:
    """The module a parameter label names (``layers.0.neurons.3`` for ``layers.0.neurons.3.w.1``),
    None for a label that is not an nn parameter name."""
    m = _PARAM.search(label)
    return label[:m.start()] if m and m.start() > 0 else None


def weight_index(label: str) -> int | None:
    """``i`` for a weight named ``<module>.w.<i>``, else None."""
    m = _PARAM.search(label)
    return int(m.group(2)) if m and m.group(2) is not None and m.start() > 0 else None


def is_bias(label: str) -> bool:
    """True for a bias named ``<module>.b``."""
    m = _PARAM.search(label)
    return bool(m) and m.group(1) == "b" and m.start() > 0


def layer_of(module: str) -> str | None:
    """The layer a neuron named ``<layer>.neurons.<k>`` belongs to (``layer`` for a Layer used
    on its own, whose neurons are ``neurons.<k>``); None for a module that is no neuron."""
    m = _NEURON.match(module)
    if not m:
        return None
    return m.group(1) or "layer"


def short_name(name: str, module: str | None) -> str:
    """``name`` without its module's prefix (``w.1`` for ``layers.0.neurons.3.w.1`` inside
    ``layers.0.neurons.3``, ``neurons.3`` for the module's output); unchanged when it does not
    start with it."""
    if module is None:
        return name
    if name == module:  # the module's own output, inside its box: its last two parts
        return ".".join(name.split(".")[-2:])
    prefix = module + "."
    return name[len(prefix):] if name.startswith(prefix) and len(name) > len(prefix) else name


def node_names(nodes: list[Value], owner: dict[int, str], expression: Callable[[int, list[str]], str]
               ) -> list[str]:
    """One readable name per node of ``nodes`` (a topological order), as the module says.

    ``owner`` maps a node's index to the neuron (module name) whose call it is inside;
    ``expression(i, names)`` writes node ``i``'s expression from the names found so far.
    Labels go through :func:`printable`; a newline in one is shown as ``\\n`` so a name never
    breaks a line of text. Derived names never repeat a name already given: a repeat gets
    ``#2``, ``#3``, ...
    """
    index = {v: i for i, v in enumerate(nodes)}
    labelled = {printable(v.label).replace("\n", "\\n") for v in nodes if v.label}
    counts: dict[str, int] = {}
    names: list[str] = []
    seen: set[str] = set()
    partial: dict[int, tuple[int, int]] = {}  # running sum of products: (first, last) weight

    def numbered(base: str) -> str:
        """``base1``, ``base2``, ...: never a name a user's label already took."""
        while True:
            counts[base] = counts.get(base, 0) + 1
            name = f"{base}{counts[base]}"
            if name not in labelled:
                return name

    for i, v in enumerate(nodes):
        if v.label:
            names.append(printable(v.label).replace("\n", "\\n"))
        elif v.is_constant:
            names.append(f"({fmt(v.data)})")
        elif v.is_leaf:
            names.append(numbered("leaf"))
        else:
            module = owner.get(i)
            inside = _neuron_part(v, index, module, partial, i) if module is not None else None
            if inside is not None:
                names.append(f"{module}.{inside}")
                continue
            expr = expression(i, names)
            if len(expr) > MAX_EXPRESSION:
                names.append(numbered(_OP_WORDS.get(v._op, v._op)))
            elif expr in seen or expr in labelled:
                counts.setdefault(expr + "#", 1)  # another node computing the same: (a*b)#2
                names.append(numbered(expr + "#"))
            else:
                names.append(expr)
            seen.add(names[-1])
    return names


_OP_WORDS = {"+": "sum", "-": "difference", "*": "product", "/": "quotient", "**": "power"}


def _neuron_part(v: Value, index: dict[Value, int], module: str,
                 partial: dict[int, tuple[int, int]], i: int) -> str | None:
    """The name of an unlabelled node inside neuron ``module``, in the neuron's own terms:
    ``w.1·x.1``, ``Σw·x.0..1``, ``z``; None when it is none of those."""
    ops = v._prev
    if v._op == "*" and len(ops) == 2:
        for w in ops:
            k = weight_index(w.label) if w.is_leaf else None
            if k is not None and module_of(w.label) == module:
                partial[i] = (k, k)
                return f"w.{k}·x.{k}"
    if v._op == "+" and len(ops) == 2:
        a, b = (index[o] for o in ops)
        if a in partial and b in partial and partial[a][1] + 1 == partial[b][0]:
            partial[i] = (partial[a][0], partial[b][1])
            first, last = partial[i]
            return f"Σw·x.{first}..{last}"
        for s, other in ((a, ops[1]), (b, ops[0])):
            if s in partial and other.is_leaf and is_bias(other.label) and module_of(other.label) == module:
                return "z"
    return None
