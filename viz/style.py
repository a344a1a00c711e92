"""How the richer views look: node kinds, number format, and the colours of gradient flow.

Colours are the Okabe-Ito pair blue/orange, which colour-blind readers tell apart; sign is
also carried by the text (the number) so no information is in colour alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from chainrule.autograd import Value

__all__ = ["fmt", "kind_of", "looks_like_parameter", "module_of", "flow_colour", "flow_width", "largest",
           "KINDS", "POSITIVE", "NEGATIVE", "ZERO", "NO_GRAD"]

POSITIVE = "#0072B2"  # blue: increasing this value increases the output
NEGATIVE = "#E69F00"  # orange: increasing it decreases the output
ZERO = "#A0A0A0"      # grey: no gradient flows (a dead ReLU, a zero weight)
NO_GRAD = "#404040"   # before backward: plain dark edges, no flow drawn

# kind -> (shape, style, fill colour, border width); shapes differ, not only colours.
KINDS = {
    "input": ("box", "filled", "#DDEEFF", 1.0),
    "parameter": ("box", "rounded,filled", "#FFF2B3", 1.0),
    "constant": ("plain", "", "", 0.0),
    "intermediate": ("box", "", "", 1.0),
    "output": ("box", "filled,bold", "#E8D5F5", 2.5),
}


def fmt(x: float, digits: int = 4) -> str:
    """A short, stable rendering of a float: ``digits`` significant digits, no ``-0``."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


_PARAM = re.compile(r"\.(w\.\d+|b)$")


def looks_like_parameter(label: str) -> bool:
    """True for nn's parameter names: ``<module>.w.<i>`` or ``<module>.b`` (``neuron.b``,
    ``layers.0.neurons.3.w.1``); a bare ``b`` or ``w`` is a user's input."""
    return bool(_PARAM.search(label))


def module_of(label: str) -> str | None:
    """The module a parameter label names (``layers.0.neurons.3`` for ``layers.0.neurons.3.w.1``),
    None for a label that is not an nn parameter name."""
    m = _PARAM.search(label)
    return label[:m.start()] if m and m.start() > 0 else None


def kind_of(v: Value, root: Value, params: set[Value]) -> str:
    """One of KINDS: the root is the output; a leaf is a constant, a parameter or an input."""
    if v is root:
        return "output"
    if not v.is_leaf:
        return "intermediate"
    if v.is_constant:
        return "constant"
    return "parameter" if v in params else "input"


def flow_colour(flow: float | None) -> str:
    """Edge colour for a gradient contribution; None means backward has not run."""
    if flow is None:
        return NO_GRAD
    if flow == 0 or math.isnan(flow):
        return ZERO
    return POSITIVE if flow > 0 else NEGATIVE


def flow_width(flow: float | None, largest: float) -> float:
    """Pen width from 0.6 (nothing) to 5 (the graph's largest |contribution|), square-root scaled."""
    if flow is None or largest <= 0 or not math.isfinite(flow) or flow == 0:
        return 0.6 if flow is not None else 1.0
    return round(1.0 + 4.0 * math.sqrt(min(abs(flow) / largest, 1.0)), 2)


def largest(flows: Iterable[float | None]) -> float:
    """The largest finite |flow|, 0 if there is none."""
    return max((abs(f) for f in flows if f is not None and math.isfinite(f)), default=0.0)
