"""``write_stepper``: one self-contained HTML page that steps through the backward pass.

The graph is laid out once by ``dot`` and inlined as SVG; each frame only changes classes
(current node, active edges) and the text of the grad lines, so nothing moves. The frames
come from the traced graph (:func:`viz.trace.trace`), the record ``explain`` prints.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from chainrule.autograd import Value, topo_order
from chainrule.files import write_atomic

from . import page
from .checks import check_count, check_path, check_rankdir, check_root, check_text
from .clusters import candidate_outputs
from .escape import html_text, script_json
from .graph import stepper_graph
from .neuron_steps import neuron_frames, neuron_graph
from .program import code_frames, program_html, program_of
from .render import RenderTimeout, run_dot
from .style import fmt
from .trace import Edge, TracedGraph, derivative_text, edge_id, neuron_id, node_id, result_edge_id, trace

__all__ = ["write_stepper", "stepper_html", "stepper", "Stepper", "frames"]


def _total(s: Edge) -> str:
    """An operand's running total after step ``s``: ``0.5 + 2 = 2.5``, or ``2`` at first."""
    return (f"{fmt(s.before)} + {fmt(s.contribution)} = {fmt(s.total)}" if s.count > 1
            else fmt(s.total))


def frames(t: TracedGraph) -> list[dict]:
    """One frame per node in backward order: what it adds to which grads, and the arithmetic.

    ``final`` lists the nodes whose grad is complete from that frame on: a node's last
    contribution arrives at the frame of its last user in backward order (the root's at its own).
    """
    received: dict[int, int] = {}
    for s in t.edges:
        received[s.child] = s.count
    out, last_use = [], {}
    for k, i in enumerate(t.backward_order()):
        v, name = t.values[i], t.names[i]
        steps = t.edges_of(i)
        lines = [f"{name}.grad = 1 (seed: d{name}/d{name})"] if k == 0 else []
        setting: dict[str, str] = {node_id(i): f"grad {fmt(t.grads[i])}"} if k == 0 else {}
        if v.is_leaf:
            kind = "a constant" if v.is_constant else "a leaf"
            n = received.get(i, 0)
            title = f"{name} is {kind}: its grad is final"
            lines.append(f"{name}.grad = {fmt(t.grads[i])}"
                         + (f" (the sum of {n} contributions)" if n > 1 else ""))
        else:
            title = f"{name} = {t.expression(i)}: pass {name}.grad = {fmt(t.grads[i])} back"
            for s in steps:
                child = t.names[s.child]
                local = fmt(s.local)
                lines.append(f"∂{name}/∂{child} = {derivative_text(t.rule(s), local)}")
                lines.append(f"  {child}.grad += {fmt(s.upstream)} × {local} = {fmt(s.contribution)}")
                lines.append(f"  {child}.grad = {_total(s)}")
                if not t.values[s.child].is_constant:
                    setting[node_id(s.child)] = f"grad {_total(s)}"
        edges = ([result_edge_id(i)] + [edge_id(i, s.slot) for s in steps]) if steps else []
        out.append({"node": node_id(i), "title": title, "lines": lines, "edges": edges, "set": setting,
                    "final": [node_id(i)] if k == 0 else []})
        for s in steps:
            last_use[s.child] = k
    for i, k in last_use.items():
        out[k]["final"].append(node_id(i))
    return out


_SVG = "{http://www.w3.org/2000/svg}"


def _check_grad_rows(svg: str, grad_rows: dict[str, str]) -> None:
    """Fail loudly unless each value node's last SVG ``<text>`` is its grad row.

    stepper.js rewrites the last text of every value node each frame; if a Graphviz version
    ever laid the label out differently, the page would silently overwrite the wrong line.
    """
    last = {}
    for g in ET.fromstring(svg).iter(f"{_SVG}g"):
        if g.get("class") == "node":
            texts = ["".join(t.itertext()) for t in g.iter(f"{_SVG}text")]
            last[g.get("id")] = texts[-1] if texts else None
    wrong = {key: (last.get(key), text) for key, text in grad_rows.items() if last.get(key) != text}
    if wrong:
        node, (got, want) = sorted(wrong.items())[0]
        raise RuntimeError(f"write_stepper: in the SVG from dot, the last text of node {node} is {got!r}, "
                           f"not its grad row {want!r}; the page could not update it "
                           f"({len(wrong)} node(s) affected)")


SCALAR_LABELS = 150  # past this many values the scalar page leaves edge labels out (dot is slow)
NEURON_NODES = 400  # the neuron-level page's limit, in nodes, when max_nodes is below it


def _too_large(values: int, units: int, limit: int, what: str) -> ValueError:
    """The refusal of a graph too large even one neuron call at a time (a batch's): dot would
    take seconds, then minutes, for a picture no one could read, so it is not run."""
    return ValueError(
        f"write_stepper: not written: the graph has {values} values and {units} {what}, more than "
        f"{limit} nodes even stepped through one neuron call at a time. viz.draw_network(model) draws "
        f"the model with ∂loss/∂w summed over the batch and viz.write_training shows training step by "
        f"step; or step through one sample's loss, or pass max_nodes=None to lay it out anyway")


def stepper_html(root: Value, *, rankdir: str = "LR", title: str | None = None,
                 interval_ms: int = 900, max_nodes: int | None = 400, compiled: bool = False,
                 full_page: bool = True) -> str:
    """The step-through page for ``root`` as a string (see :func:`write_stepper`); with
    ``full_page=False`` only the self-contained ``<div>``, to place in another page."""
    fragment, title_html = _fragment(root, rankdir, title, interval_ms, max_nodes, compiled)
    return page.full_page(title_html, fragment) if full_page else fragment


def _fragment(root: Value, rankdir: str, title: str | None, interval_ms: int, max_nodes: int | None,
              compiled: bool) -> tuple[str, str]:
    """The stepper's self-contained ``<div>`` and its title as HTML text."""
    check_root(root, "write_stepper")
    if not isinstance(compiled, bool):
        raise TypeError(f"write_stepper: compiled must be True or False, got {compiled!r}")
    check_rankdir(rankdir, "write_stepper")
    check_text(title, "title", "write_stepper", none=True)
    check_count(interval_ms, "interval_ms", "write_stepper", unit=" milliseconds")
    check_count(max_nodes, "max_nodes", "write_stepper", none=True)
    limit = None if max_nodes is None else max(max_nodes, NEURON_NODES)
    if limit is not None:
        # a batch's graph: counting its neuron calls by label is one pass, tracing it seconds
        nodes = topo_order(root)
        if len(nodes) > max_nodes and len(calls := candidate_outputs(nodes)) > limit:
            raise _too_large(len(nodes), len(calls), limit, "neuron calls")
    t = trace(root)
    program = program_of(t, "write_stepper") if compiled else None
    notes = []
    svg = None
    if max_nodes is None or len(t.values) <= max_nodes:
        try:
            svg, fs, shown = _scalar_page(t, rankdir, notes)
        except RenderTimeout as err:
            if not t.clusters:
                raise RenderTimeout(f"write_stepper: {err}; step through a smaller example") from None
            notes.append(f"one step per neuron: {err} scalar by scalar")
    elif not t.clusters:
        raise ValueError(
            f"write_stepper: the graph has {len(t.values)} nodes, more than max_nodes={max_nodes}, "
            "and no nn modules to step through neuron by neuron; laying it out would take minutes. "
            "Step through a smaller example, or pass max_nodes=None to write it anyway.")
    else:
        notes.append(f"one step per neuron: the graph has {len(t.values)} values (more than "
                     f"max_nodes={max_nodes}); pass max_nodes=None to step through every scalar")
    if svg is None:
        owner = t.owner()
        left = [v for i, v in enumerate(t.values) if i not in owner]
        units = len(t.clusters) + len(left) + sum(1 for v in left if not v.is_leaf)
        if limit is not None and units > limit:
            raise _too_large(len(t.values), units, limit, "nodes at neuron level (neuron calls, "
                             "values and ops outside neurons)")
        fs, widest = neuron_frames(t)
        grad_rows = {node_id(i): widest.get(node_id(i), f"grad {fmt(t.grads[i])}")
                     for i, v in enumerate(t.values) if not v.is_constant and i not in t.owner()}
        grad_rows.update({neuron_id(k): widest.get(neuron_id(k), f"grad {fmt(t.grads[c.output])}")
                          for k, c in enumerate(t.clusters)})
        svg = _laid_out(neuron_graph(t, rankdir, grad_rows), grad_rows)
        shown = sorted(grad_rows)
        if program is not None:
            notes.append("the compiled program's lines are shown only when stepping scalar by scalar")
            program = None
    elif program is not None:
        for f, code in zip(fs, code_frames(t, program)):
            f.update(code)
    name = t.names[t.root]
    page_title = title if title is not None else f"chainrule: the backward pass of {name}"
    data = {"frames": fs, "interval": interval_ms, "nodes": shown}
    parts = {
        "TITLE": html_text(page_title),
        "NOTE": html_text("; ".join(notes)),
        "CSS": page.asset("stepper.css"),
        "CONTROLS": page.controls("crs", "step"),
        "SVG": svg,
        "DATA": script_json(data),
        "CODE": program_html(program) if program is not None else "",
        "JS": page.script("stepper.js"),
    }
    return page.fill(page.asset("stepper.html"), parts), parts["TITLE"]


def _scalar_page(t: TracedGraph, rankdir: str, notes: list[str]) -> tuple[str, list[dict], list[str]]:
    """The scalar page's SVG, frames and shown node ids."""
    # Lay out with each node's widest grad text, so no frame's text overflows its box.
    widest: dict[int, str] = {}
    for s in t.edges:
        text = f"grad {_total(s)}"
        if len(text) > len(widest.get(s.child, "")):
            widest[s.child] = text
    grad_rows = {node_id(i): widest.get(i, f"grad {fmt(t.grads[i])}") for i, v in enumerate(t.values)
                 if not v.is_constant}
    labels = len(t.values) <= SCALAR_LABELS
    if not labels:
        notes.append(f"edge labels left out: {len(t.values)} values (more than {SCALAR_LABELS}); "
                     "each step's arithmetic is in the panel")
    graph = stepper_graph(t, rankdir, lambda i: grad_rows[node_id(i)], labels=labels)
    return _laid_out(graph, grad_rows), frames(t), [node_id(i) for i, v in enumerate(t.values)
                                                     if not v.is_constant]


def _laid_out(graph, grad_rows: dict[str, str]) -> str:
    """The SVG of ``graph`` from dot (time-limited), checked, without its XML prolog."""
    svg = run_dot(graph.source, "svg").decode("utf-8")
    _check_grad_rows(svg, grad_rows)
    return page.inline_svg(svg)


def write_stepper(root: Value, path: str | Path, *, rankdir: str = "LR", title: str | None = None,
                  interval_ms: int = 900, max_nodes: int | None = 400, compiled: bool = False) -> Path:
    """Write one self-contained HTML page stepping through ``root``'s backward pass.

    One frame per node in backward order: the node is highlighted, the edges whose
    contributions it adds light up, grads computed so far are filled in and the chain-rule
    arithmetic of the step is shown beside the picture. Controls: first/prev/play/next/last,
    a slider, zoom (−, fit, +; the picture starts fitted to the width), and, while the
    stepper has focus, the keys ←, →, Home, End, space, + - and 0. Needs ``dot`` once, to lay the graph out;
    the page itself needs no network. A graph of more than ``max_nodes`` values (or one dot
    cannot lay out within its time limit) is stepped through one neuron call at a time when
    it has nn modules, and refused otherwise; so is one of more than ``max(max_nodes, 400)``
    nodes even one neuron call at a time (a batch's), counted before ``dot`` runs. Past 150
    values edge labels are left out. The page says which. ``compiled=True`` also shows, for
    each step, the line(s) of the program
    ``autograd.compile`` writes for this graph that add the step's contributions (the root's
    step starts with the seed line; a leaf's shows the line returning its gradient), and the
    whole program, folded; CompileError when an op has no formula text. Returns the path.
    """
    path = check_path(path, "write_stepper")
    html = stepper_html(root, rankdir=rankdir, title=title, interval_ms=interval_ms, max_nodes=max_nodes,
                        compiled=compiled)
    write_atomic(path, html.encode("utf-8"))
    return path


class Stepper:
    """The step-through widget for a notebook: displays inline (``_repr_html_``), or ``.write(path)``."""

    def __init__(self, root: Value, *, rankdir: str = "LR", title: str | None = None, interval_ms: int = 900,
                 max_nodes: int | None = 400, compiled: bool = False) -> None:
        self._root = root
        # Laid out once: the inline display, html() and write() are the same page.
        self._fragment, self._title = _fragment(root, rankdir, title, interval_ms, max_nodes, compiled)

    def _repr_html_(self) -> str:
        return self._fragment

    def __repr__(self) -> str:  # a notebook's text/plain: the same every run, unlike an address
        name = self._root.label or "an unlabelled Value"
        return f"<chainrule stepper of {name}: shown inline, or .write(path)>"

    def html(self) -> str:
        """The whole page, as :func:`write_stepper` writes it."""
        return page.full_page(self._title, self._fragment)

    def write(self, path: str | Path) -> Path:
        """Write the whole page to ``path``; returns the path."""
        path = check_path(path, "Stepper.write")
        write_atomic(path, self.html().encode("utf-8"))
        return path


def stepper(root: Value, **options) -> Stepper:
    """The step-through widget for ``root``; in a notebook, the last line ``viz.stepper(loss)``
    shows it inline (several on one page work independently). Options as for
    :func:`write_stepper`."""
    return Stepper(root, **options)
