"""Graphs in a notebook: shown as they are while they stay legible in a cell, else at full size.

Jupyter (and GitHub's notebook view) shrinks a picture wider than the cell to the cell's
width. A graph of a whole network is thousands of points wide, so shrunk its labels would be
two or three pixels tall. The rule here: a graph whose smallest text stays at least
:data:`MIN_FONT_PX` pixels when shrunk to a cell :data:`CELL_PX` pixels wide is shown as the
image it is (``image/svg+xml``, as graphviz shows every graph). A wider one is shown as HTML:
one line saying so and how to write it to a file, above the picture at its natural size in a
box that scrolls (the picture keeps Jupyter's own ``jp-mod-unconfined``/``unconfined``
classes and ``max-width: none``, so the cell does not shrink it). Sizes are read from dot's
SVG itself: its width and viewBox, the scales of its groups and the font sizes of its texts.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .page import inline_svg

__all__ = ["CELL_PX", "MIN_FONT_PX", "SvgSize", "svg_size", "graph_bundle", "FULL_SIZE_CLASS"]

CELL_PX = 900.0      # a typical notebook cell's width, in CSS pixels
MIN_FONT_PX = 9.0    # the smallest text, in CSS pixels as displayed, still read comfortably
FULL_SIZE_CLASS = "chainrule-full-size"  # marks the HTML of a graph shown at natural size

# CSS pixels per unit; dot writes its sizes in pt
_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class SvgSize:
    """A picture's natural size and its smallest text, all in CSS pixels."""

    width: float
    height: float
    smallest_font: float  # 0.0 when the picture has no text

    def shown_font(self, cell: float = CELL_PX) -> float:
        """The smallest text's height once the picture is shrunk (never enlarged) to ``cell`` px."""
        return self.smallest_font * min(1.0, cell / self.width) if self.width > 0 else self.smallest_font

    def legible(self, cell: float = CELL_PX, min_font: float = MIN_FONT_PX) -> bool:
        """Whether every text stays at least ``min_font`` px tall in a cell ``cell`` px wide."""
        return self.smallest_font == 0.0 or self.shown_font(cell) >= min_font


def _length(text: str | None, what: str) -> float:
    """A CSS length such as ``5653pt`` in CSS pixels."""
    m = re.fullmatch(r"\s*([0-9.]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*", text or "")
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"svg_size: cannot read the {what} {text!r} of this SVG")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _scale(transform: str | None) -> float:
    """How much a ``transform`` attribute scales lengths (dot writes ``scale(s s) rotate(0)
    translate(x y)``; translations and rotations leave sizes alone)."""
    factor = 1.0
    for name, args in re.findall(r"(scale|matrix)\s*\(([^)]*)\)", transform or ""):
        nums = [float(a) for a in re.split(r"[\s,]+", args.strip()) if a]
        if name == "scale":
            sx, sy = nums[0], nums[1] if len(nums) > 1 else nums[0]
        else:  # matrix(a b c d e f): the columns' lengths
            sx, sy = (nums[0] ** 2 + nums[1] ** 2) ** 0.5, (nums[2] ** 2 + nums[3] ** 2) ** 0.5
        factor *= min(abs(sx), abs(sy))
    return factor


def svg_size(svg: str) -> SvgSize:
    """The natural size of the SVG picture ``svg`` and its smallest text, in CSS pixels."""
    root = ET.fromstring(svg[svg.index("<svg"):])
    width = _length(root.get("width"), "width")
    height = _length(root.get("height"), "height")
    box = [float(v) for v in re.split(r"[\s,]+", (root.get("viewBox") or "").strip()) if v]
    # user units to CSS pixels: the viewBox is fitted into width × height keeping its
    # proportions (preserveAspectRatio's default), so the tighter of the two scales wins; dot
    # rounds its width and height to whole points, which a scaled drawing makes differ
    unit = min(width / box[2], height / box[3]) if len(box) == 4 and box[2] > 0 and box[3] > 0 else 1.0
    smallest = [float("inf")]

    def walk(node: ET.Element, scale: float, font: float | None) -> None:
        scale *= _scale(node.get("transform"))
        if node.get("font-size"):
            font = _length(node.get("font-size"), "font-size")
        if node.tag == f"{_SVG}text" and "".join(node.itertext()).strip():
            # dot writes a font size on every text; an SVG's default is 16 px
            smallest[0] = min(smallest[0], (16.0 if font is None else font) * scale * unit)
        for child in node:
            walk(child, scale, font)

    walk(root, 1.0, None)
    return SvgSize(width, height, 0.0 if smallest[0] == float("inf") else smallest[0])


def _px(n: float) -> str:
    return f"{round(n):,}"


def graph_bundle(svg: str, note: str | None = None) -> dict[str, str]:
    """What a notebook shows for the graph ``svg``: the picture as is when it stays legible
    at :data:`CELL_PX` px, else HTML with a one-line note and the picture at natural size
    in a scrolling box. ``note`` (a fallback's, see :mod:`viz.render`) is added to the text."""
    size = svg_size(svg)
    plain = f"graph, {_px(size.width)} × {_px(size.height)} px"
    if note:
        plain += f" ({note})"
    if size.legible():
        return {"image/svg+xml": svg, "text/plain": plain}
    why = (f"Shown at full size, {_px(size.width)} × {_px(size.height)} px (shrunk to the cell its "
           f"text would be {size.shown_font():.1f} px): scroll, or viz.render(graph, \"graph.svg\").")
    picture = inline_svg(svg)
    picture = re.sub(r"^<svg", '<svg class="jp-mod-unconfined unconfined" '
                     'style="max-width: none; height: auto; display: block"', picture, count=1)
    page = (f'<div class="{FULL_SIZE_CLASS}">\n'
            f'<p style="margin: 0 0 4px 0; font-size: 13px; line-height: 18px">{html.escape(why)}</p>\n'
            f'<div style="overflow: auto; max-width: 100%; max-height: 80vh; border: 1px solid #ddd">\n'
            f"{picture}</div>\n</div>\n")
    return {"text/html": page, "text/plain": why + (f" ({note})" if note else "")}
