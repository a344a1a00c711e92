"""How the richer views look: node kinds, number format, and the colours of contributions.

Colours are the Okabe-Ito pair blue/orange, which colour-blind readers tell apart; sign is
also carried by the text (the number) so no information is in colour alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

__all__ = ["fmt", "wrap", "WRAP", "contribution_colour", "contribution_width", "largest",
           "KINDS", "POSITIVE", "NEGATIVE", "ZERO", "NO_GRAD"]

POSITIVE = "#0072B2"  # blue: increasing this value increases the output
NEGATIVE = "#E69F00"  # orange: increasing it decreases the output
ZERO = "#A0A0A0"      # grey: a zero contribution (a dead ReLU, a zero weight)
NO_GRAD = "#404040"   # before backward: plain dark edges, no contributions drawn

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


WRAP = 24  # characters a line of a graph's label text may take before it is broken


def wrap(text: str, width: int = WRAP) -> str:
    """``text`` with each line longer than ``width`` broken before its `` = `` and `` + ``.

    A broken line's continuation starts with its operator (``= 0.004407``, ``+ -0.001``), so
    a reader sees it continues the line above. Pieces of four characters or fewer (``= 1``)
    stay on their line: a line of its own for them costs more than it saves. Graph labels
    are laid out left to right, so a label's width is what makes a graph wide.
    """
    out = []
    for line in text.split("\n"):
        pieces = re.split(r" (?=[=+] )", line)
        current = pieces[0]
        for piece in pieces[1:]:
            if len(current) + 1 + len(piece) <= width or len(piece) <= 4:
                current += " " + piece
            else:
                out.append(current)
                current = piece
        out.append(current)
    return "\n".join(out)


def contribution_colour(c: float | None) -> str:
    """Edge colour for a gradient contribution; None means backward has not run."""
    if c is None:
        return NO_GRAD
    if c == 0 or math.isnan(c):
        return ZERO
    return POSITIVE if c > 0 else NEGATIVE


def contribution_width(c: float | None, largest: float) -> float:
    """Pen width from 0.6 (nothing) to 5 (the graph's largest |contribution|), square-root scaled."""
    if c is None or largest <= 0 or not math.isfinite(c) or c == 0:
        return 0.6 if c is not None else 1.0
    return round(1.0 + 4.0 * math.sqrt(min(abs(c) / largest, 1.0)), 2)


def largest(contributions: Iterable[float | None]) -> float:
    """The largest finite |contribution|, 0 if there is none."""
    return max((abs(f) for f in contributions if f is not None and math.isfinite(f)), default=0.0)
