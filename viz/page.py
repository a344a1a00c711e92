"""The self-contained HTML pages (the stepper, the training page), assembled from the
templates beside this file.

A page is one ``<div>`` holding its style, its picture (dot's SVG, ids turned into page-local
``data-cr`` attributes), its data as JSON and its script, so several can share a document or
a notebook. Both pages step through frames with the same controls: their markup is
``controls.html`` and their behaviour ``player.js``, which runs with the page's own script
inside one function.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["asset", "fill", "controls", "script", "inline_svg", "full_page"]

HERE = Path(__file__).parent


def asset(name: str) -> str:
    """The text of the file ``name`` beside this module (a template, a style or a script)."""
    return (HERE / name).read_text(encoding="utf-8")


def fill(template: str, parts: dict[str, str]) -> str:
    """``template`` with each ``@@NAME@@`` replaced by ``parts[NAME]``, in one pass, so text
    substituted in is never scanned for markers again."""
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m.group(1)], template)


def controls(prefix: str, unit: str) -> str:
    """The first/prev/play/next/last buttons, the slider and the counter, their classes
    starting with ``prefix`` (``crs``: ``crs-next`` ...), their titles naming a ``unit``."""
    return fill(asset("controls.html"), {"P": prefix, "UNIT": unit}).rstrip("\n")


def script(name: str) -> str:
    """The shared player (player.js) and the page's script ``name`` in one function scope."""
    return f'(function () {{\n"use strict";\n\n{asset("player.js")}\n{asset(name)}}}());\n'


def inline_svg(svg: str) -> str:
    """dot's SVG to place inside a page: no XML prolog or doctype, and ids as ``data-cr``
    attributes, so two pages in one document cannot collide."""
    return re.sub(r'(<[^>]*?\s)id="', r'\1data-cr="', svg[svg.index("<svg"):])


def full_page(title: str, fragment: str) -> str:
    """A whole HTML document around ``fragment``; ``title`` is HTML text already."""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n</head>\n<body>\n{fragment}</body>\n</html>\n")
