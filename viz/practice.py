"""``write_practice``: the backward pass of a graph as an exercise, on one offline HTML page.

The page shows the graph with its forward values and hides the gradients; in backward order
it asks each edge's local derivative and each node's gradient (:mod:`viz.exercise` makes the
items, from the engine's own numbers), checks answers, keeps a score and, at the end, colours
the finished graph as :func:`draw_graph` does. The page is one ``<div>`` with its style, data
and script inside: no element ids (the SVG's ids become ``data-cr`` attributes), no handler
outside the div, so several can share a notebook or a page.
"""

from __future__ import annotations

import re
from html import unescape as html_unescape
from pathlib import Path

from chainrule.autograd import Value, topo_order
from chainrule.files import write_atomic

from .checks import check_count, check_path, check_rankdir, check_text
from .escape import html_text, script_json
from .exercise import Exercise, exercise
from .graph import edge_text, stepper_graph, view_names
from .lessons import lesson
from .render import run_dot
from .style import contribution_colour, contribution_width, largest
from .trace import edge_id, grouped, node_id, result_edge_id

__all__ = ["Practice", "practice", "practice_html", "write_practice"]

HERE = Path(__file__).parent
WHO = "write_practice"


def _resolve(root: Value | str) -> Value:
    """``root`` itself, or the graph of the built-in exercise it names."""
    if isinstance(root, str):
        return lesson(root)
    if not isinstance(root, Value):
        raise TypeError(f"{WHO}(root): root must be an autograd.Value or the name of a built-in "
                        f"exercise, got {type(root).__name__}")
    return root


def _edge_label(ex: Exercise, names: list[str], node: int, slot: int) -> str:
    """What an edge shows once its local derivative is known: ``∂o/∂n = 1 - o**2 = 0.5``."""
    e = ex.trace.edges_of(node)[slot]
    return edge_text(ex.trace, e, names, contribution=False, digits=ex.digits)


def _page_data(ex: Exercise) -> dict:
    """Everything the script needs: the items, the texts to show, the final colours."""
    t = ex.trace
    names = [grouped(n) for n in view_names(t, True)]  # as the questions write them
    items = []
    for it in ex.items:
        if it.kind == "local":
            target, text = edge_id(it.node, it.slot), _edge_label(ex, names, it.node, it.slot)
            pending = f"∂{names[it.node]}/∂{names[it.child]} = ?"
        else:
            target, text, pending = node_id(it.node), f"grad {ex.show(it.expected)}", "grad ?"
        items.append({"kind": it.kind, "asked": it.asked, "target": target, "text": text,
                      "pending": pending, "prompt": it.prompt, "hint": it.hint, "answer": it.answer,
                      "expected": it.expected, "tol": it.tol,
                      "mistakes": [[value, why] for value, why in it.mistakes]})
    contributions = {s.id: s.contribution for s in t.edges}
    big = largest(contributions.values())
    contributions.update({result_edge_id(i): t.grads[i] for i, v in enumerate(t.values) if not v.is_leaf})
    final = {k: [contribution_colour(c), contribution_width(c, big), c == 0]
             for k, c in sorted(contributions.items())}
    return {"items": items, "final": final, "root": node_id(t.root),
            "rootText": f"grad {ex.show(t.grads[t.root])}",
            "nodes": [node_id(i) for i, v in enumerate(t.values) if not v.is_constant]}


def _svg(ex: Exercise, rankdir: str) -> str:
    """The graph laid out by ``dot`` with each label as wide as its widest text, ids made
    page-local (``data-cr``), no XML prolog."""
    t = ex.trace
    names = [grouped(n) for n in view_names(t, True)]  # as the questions write them
    grad_rows = {i: f"grad {ex.show(t.grads[i])}" for i, v in enumerate(t.values) if not v.is_constant}

    def label_of(e) -> str | None:
        if t.values[e.child].is_constant:
            return None
        return _edge_label(ex, names, e.node, e.slot)

    graph = stepper_graph(t, rankdir, grad_rows.__getitem__, label_of, ex.digits)
    svg = run_dot(graph.source, "svg").decode("utf-8")  # time-limited; a timeout is an error here
    svg = svg[svg.index("<svg"):]
    secret = {f"e{it.node}_{it.slot}" if it.kind == "local" else f"v{it.node}"
              for it in ex.items if it.asked or it.kind == "grad"}
    svg = _mark_secrets(svg, secret)
    return re.sub(r'(<[^>]*?\s)id="', r'\1data-cr="', svg)


def _mark_secrets(svg: str, ids: set[str]) -> str:
    """Give the last ``<text>`` of each group in ``ids`` the class ``crp-secret``.

    Those texts hold answers (laid out at their final width); the page's style hides them until
    its script has replaced them, so a viewer without scripts does not see the answers.
    """
    cuts = []
    for m in re.finditer(r'<g id="([^"]+)" class="(?:node|edge)">', svg):
        if m.group(1) not in ids:
            continue
        end = svg.index("</g>", m.end())
        last = svg.rfind("<text", m.end(), end)
        if last < 0:
            raise RuntimeError(f"write_practice: group {m.group(1)} of the SVG from dot has no text")
        cuts.append(last + len("<text"))
    parts, start = [], 0
    for cut in cuts:
        parts += [svg[start:cut], ' class="crp-secret"']
        start = cut
    return "".join(parts) + svg[start:]


def practice_html(root: Value | str, *, ask: str = "both", digits: int = 4, rankdir: str = "LR",
                  title: str | None = None, max_nodes: int | None = 400, full_page: bool = True) -> str:
    """The practice page for ``root`` as a string (see :func:`write_practice`); with
    ``full_page=False`` only the self-contained ``<div>``, to place in another page."""
    fragment, title_html = _fragment(root, ask, digits, rankdir, title, max_nodes)
    return _whole_page(fragment, title_html) if full_page else fragment


def _fragment(root: Value | str, ask: str, digits: int, rankdir: str, title: str | None,
              max_nodes: int | None) -> tuple[str, str]:
    """The exercise's self-contained ``<div>`` and its title as HTML text."""
    root = _resolve(root)
    check_rankdir(rankdir, WHO)
    check_text(title, "title", WHO, none=True)
    check_count(max_nodes, "max_nodes", WHO, none=True)
    size = len(topo_order(root))  # counted before the exercise is built: seconds on a batch's graph
    if max_nodes is not None and size > max_nodes:
        raise ValueError(f"{WHO}: the graph has {size} nodes, more than "
                         f"max_nodes={max_nodes}; practise on a smaller graph, or pass max_nodes=None")
    ex = exercise(root, ask, digits)
    if not ex.questions:
        raise ValueError(f"{WHO}: the graph of {ex.trace.names[-1]} has no operation to practise on "
                         "(root is a leaf, or every operand is a constant)")
    name = ex.trace.names[-1]
    heading = title if title is not None else f"Practice: the backward pass of {name}"
    parts = {
        "TITLE": html_text(heading),
        "CSS": (HERE / "practice.css").read_text(encoding="utf-8"),
        "SVG": _svg(ex, rankdir),
        "DATA": script_json(_page_data(ex)),
        "JS": (HERE / "practice.js").read_text(encoding="utf-8"),
        "COUNT": str(len(ex.questions)),
        "ASK": {"both": "local derivatives and gradients", "local": "local derivatives",
                "grad": "gradients"}[ask],
    }
    template = (HERE / "practice.html").read_text(encoding="utf-8")
    # One pass, so text substituted in is never scanned for markers again.
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m.group(1)], template), parts["TITLE"]


def _whole_page(fragment: str, title_html: str) -> str:
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{title_html}</title>\n</head>\n<body>\n{fragment}</body>\n</html>\n')


def write_practice(root: Value | str, path: str | Path, *, ask: str = "both", digits: int = 4,
                   rankdir: str = "LR", title: str | None = None, max_nodes: int | None = 400) -> Path:
    """Write one self-contained HTML page that turns ``root``'s backward pass into an exercise.

    ``root`` is a Value or the name of a built-in exercise (``viz.LESSONS``: ``"neuron"``,
    ``"tutorial"``, ``"a+a"``, ``"diamond"``, ``"division"``, ``"power"``). ``ask``:
    ``"both"``, ``"local"`` (local derivatives only) or ``"grad"`` (gradients only);
    ``digits``: significant digits of the numbers shown, which sets the tolerance of the
    checks (3 units in the last digit). Needs ``dot`` once to lay the graph out; the page
    needs no network. ``root``'s ``.grad`` fields are not touched. Returns the path.
    """
    path = check_path(path, WHO)
    html = practice_html(root, ask=ask, digits=digits, rankdir=rankdir, title=title, max_nodes=max_nodes)
    write_atomic(path, html)
    return path


class Practice:
    """The practice exercise for a notebook: displays inline (``_repr_html_``), or ``.write(path)``."""

    def __init__(self, root: Value | str, *, ask: str = "both", digits: int = 4, rankdir: str = "LR",
                 title: str | None = None, max_nodes: int | None = 400) -> None:
        # Laid out once: the inline display, html() and write() are the same exercise.
        self._fragment, self._title = _fragment(root, ask, digits, rankdir, title, max_nodes)

    def _repr_html_(self) -> str:
        return self._fragment

    def __repr__(self) -> str:  # a notebook's text/plain: the same every run, unlike an address
        return f"<chainrule practice page \"{html_unescape(self._title)}\": shown inline, or .write(path)>"

    def html(self) -> str:
        """The whole page, as :func:`write_practice` writes it."""
        return _whole_page(self._fragment, self._title)

    def write(self, path: str | Path) -> Path:
        """Write the whole page to ``path``; returns the path."""
        path = check_path(path, "Practice.write")
        write_atomic(path, self.html())
        return path


def practice(root: Value | str, **options) -> Practice:
    """The practice exercise for ``root``; in a notebook, the last line ``viz.practice(out)``
    shows it inline. Options as for :func:`write_practice`."""
    return Practice(root, **options)
