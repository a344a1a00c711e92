"""Turning user text into safe DOT, Graphviz-HTML, HTML and JSON-in-HTML.

Labels are user text: they may hold quotes, braces, backslashes, newlines, control
characters or any script. Each output layer has its own escape rules, so every string takes
exactly one of these routes and no other code writes user text into DOT or HTML.
"""

from __future__ import annotations

import json
import unicodedata

__all__ = ["clip", "MAX_TEXT", "printable", "dot_quote", "record_text", "label_text", "html_label",
           "html_text", "script_json"]

# XML (and so SVG) cannot carry most C0 controls; Graphviz stops at NUL. They are shown
# as visible escapes instead, which is also what a reader debugging a label wants.
_NOT_XML = {0xFFFE, 0xFFFF}


def printable(text: str) -> str:
    """``text`` with control and non-XML characters shown as ``\\xNN`` / ``\\uNNNN``.

    Newlines are kept (each view turns them into its own line break); tabs become spaces.
    """
    if not isinstance(text, str):
        raise TypeError(f"a label must be a str, got {type(text).__name__}")
    out = []
    for ch in text.replace("\r\n", "\n"):
        code = ord(ch)
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append("    ")
        elif code in _NOT_XML or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04X}")
        elif unicodedata.category(ch) == "Cc":
            out.append(f"\\x{code:02X}")
        else:
            out.append(ch)
    return "".join(out)


MAX_TEXT = 500  # characters of one piece of label text; dot refuses strings past 16,384 after escaping


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, or its first ``limit`` characters and how many more there were: a picture
    cannot show a 20,000-character label, and dot refuses one, so it is shortened visibly."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} characters)"


def dot_quote(escaped: str) -> str:
    """A DOT double-quoted string around text already escaped for its label layer."""
    # In DOT quoted strings the only escape is \" ; backslashes pass through to the label.
    return '"' + escaped.replace('"', '\\"') + '"'


_RECORD = {"\\": "\\\\", "{": "\\{", "}": "\\}", "|": "\\|", "<": "\\<", ">": "\\>",
           "&": "&amp;", "\n": "\\n", " ": "&#32;"}


def record_text(text: str, limit: int = MAX_TEXT) -> str:
    """Text for one field of a ``shape=record`` label, or a whole plain label (then wrapped
    by :func:`dot_quote`); Graphviz drops the backslash before ``{|}<>`` in plain labels too.
    Spaces become ``&#32;``, decoded only after the record is split into fields: Graphviz
    2.43's record parser drops or moves a space that follows a multi-byte character, and
    collapses runs of them. ``&`` becomes ``&amp;`` because Graphviz decodes HTML entities
    even in plain labels.
    """
    return "".join(_RECORD.get(ch, ch) for ch in printable(clip(text, limit)))


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def html_text(text: str) -> str:
    """Text for an HTML page: markup characters as entities (newlines kept)."""
    return "".join(_HTML.get(ch, ch) for ch in printable(text))


def label_text(text: str) -> str:
    """Text for a Graphviz HTML-like label: entities, doubled backslashes, ``<BR/>`` lines."""
    # Graphviz still expands \N, \G, \\ ... inside HTML-like labels after decoding them,
    # and its HTML lexer rejects a text that is only "]" or "]]" (a CDATA-end check).
    return html_text(clip(text)).replace("\\", "\\\\").replace("]", "&#93;").replace("\n", "<BR/>")


def html_label(markup: str) -> str:
    """A DOT HTML-like label value around markup built from :func:`label_text` pieces."""
    return "<" + markup + ">"


def script_json(obj: object) -> str:
    """JSON safe to place inside ``<script>``: no ``</script>``, ``<!--`` or stray ``&``."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text
