"""Graphs in a notebook: svg_size against what Chromium draws, and the display's choice
(the picture as is, or at full size with a note) checked in a cell as JupyterLab styles it."""

from __future__ import annotations

import re
from pathlib import Path

import graphviz
import pytest
from IPython.core.formatters import DisplayFormatter

from chainrule import nn, viz
from chainrule.autograd import Value
from chainrule.viz.notebook import CELL_PX, FULL_SIZE_CLASS, MIN_FONT_PX, graph_bundle, svg_size
from chainrule.viz.render import Graph

# JupyterLab's own rules for pictures in outputs (packages/rendermime/style/base.css): every
# image or inline SVG is shrunk to the cell's width, unless it has the unconfined class.
JUPYTER_CSS = """
.jp-RenderedHTMLCommon img, .jp-RenderedImage img, .jp-RenderedHTMLCommon svg {
    max-width: 100%; height: auto; }
.jp-RenderedHTMLCommon svg.jp-mod-unconfined, .jp-RenderedImage img.jp-mod-unconfined { max-width: none; }
.cell { width: CELLpx; overflow: auto; }
""".replace("CELL", f"{CELL_PX:g}")


def tutorial_sample():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network(seed=1)
    inputs = [Value(float(x), label=f"x{i}") for i, x in enumerate(X[1])]
    loss = (Value(float(y[1]), label="y") - model(inputs)) ** 2
    loss.label = "loss"
    loss.backward()
    return model, loss


def small():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b).tanh()
    out.label = "out"
    out.backward()
    return out


def scaled_down() -> Graph:
    """dot shrinks a drawing past its ``size`` (a scale() on the graph group): fonts shrink too."""
    g = Graph(graph_attr={"size": "1.5,1.5"})
    g.node("a", "a long label to shrink", fontsize="10")
    g.node("b", "b", fontsize="20")
    g.edge("a", "b", label="edge", fontsize="8")
    return g


@pytest.fixture(scope="module")
def graphs():
    model, loss = tutorial_sample()
    return {"dot": viz.draw_dot(small()), "graph": viz.draw_graph(loss, collapse=False),
            "network": viz.draw_network(model), "scaled": scaled_down()}



def in_chromium(browser, tmp_path: Path, body: str, script: str):
    """``script`` evaluated on a page holding ``body`` under JupyterLab's picture rules."""
    path = tmp_path / "cell.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{JUPYTER_CSS}</style>"
                    f"</head><body style='margin:0'>{body}</body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(path.as_uri())
    try:
        return page.evaluate(script)
    finally:
        page.close()


def cell(html: str) -> str:
    """``html`` as the output of a cell CELL_PX wide."""
    return f'<div class="cell jp-RenderedHTMLCommon">{html}</div>'


# the drawn width of the first svg, and its smallest text as drawn: font size times the scale
# from the text's user units to screen pixels (getScreenCTM), for every text with characters
MEASURE = """() => {
    const svg = document.querySelector('svg');
    const sizes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
        .map(t => parseFloat(getComputedStyle(t).fontSize)
                  * Math.hypot(t.getScreenCTM().c, t.getScreenCTM().d));
    return {width: svg.getBoundingClientRect().width, height: svg.getBoundingClientRect().height,
            font: Math.min(...sizes)};
}"""


def test_svg_size_is_what_chromium_draws_at_natural_size(graphs, browser, tmp_path):
    for name, g in graphs.items():
        svg = g.pipe(format="svg", encoding="utf-8")
        size = svg_size(svg)
        drawn = in_chromium(browser, tmp_path, svg[svg.index("<svg"):], MEASURE)
        assert drawn["width"] == pytest.approx(size.width, abs=1.0), name
        assert drawn["height"] == pytest.approx(size.height, abs=1.0), name
        assert drawn["font"] == pytest.approx(size.smallest_font, rel=1e-3), name
    # the scaled-down drawing really is scaled: its 8 pt edge label is smaller than 8 pt
    assert svg_size(graphs["scaled"].pipe(format="svg", encoding="utf-8")).smallest_font < 8 * 4 / 3 * 0.9


def test_legible_graphs_are_shown_as_pictures_and_wide_ones_at_full_size(graphs, browser, tmp_path):
    shown = {name: g._repr_mimebundle_() for name, g in graphs.items()}
    assert set(shown["dot"]) == {"image/svg+xml", "text/plain"}
    for name in ("graph", "network"):
        svg = graphs[name].pipe(format="svg", encoding="utf-8")
        size = svg_size(svg)
        assert size.shown_font() < MIN_FONT_PX  # shrunk to the cell it would be illegible
        assert set(shown[name]) == {"text/html", "text/plain"}
        html = shown[name]["text/html"]
        note = re.search(r"<p[^>]*>(.*?)</p>", html).group(1)
        assert f"{round(size.width):,} × {round(size.height):,} px" in note and "viz.render(graph" in note
        assert note.replace("&quot;", '"') == shown[name]["text/plain"]
        # in a 900 px cell styled as JupyterLab styles outputs: drawn at natural size, legible, in a
        # box that scrolls, and the note above it one line
        drawn = in_chromium(browser, tmp_path, cell(html), """() => {
            const box = document.querySelector('.FULL > div'), p = document.querySelector('.FULL > p');
            return Object.assign((MEASURE)(), {scrolls: box.scrollWidth > box.clientWidth,
                                               box: box.clientWidth, noteHeight: p.scrollHeight});
        }""".replace("FULL", FULL_SIZE_CLASS).replace("MEASURE", MEASURE))
        assert drawn["noteHeight"] <= 18, name  # one line of 18 px
        assert drawn["width"] == pytest.approx(size.width, abs=1.0), name
        assert drawn["font"] >= MIN_FONT_PX and drawn["scrolls"] and drawn["box"] <= CELL_PX, name
    # the small picture, as an image shrunk to the cell the way JupyterLab shows image/svg+xml
    svg = shown["dot"]["image/svg+xml"]
    drawn = in_chromium(browser, tmp_path, cell(svg[svg.index("<svg"):]), MEASURE)
    assert drawn["width"] <= CELL_PX and drawn["font"] >= MIN_FONT_PX


def test_the_full_size_html_has_no_ids_and_names_a_fallback(graphs):
    html = graphs["graph"]._repr_mimebundle_()["text/html"]
    assert ' id="' not in html and html.count("<svg") == 1  # two graphs on one page cannot collide
    wide = graph_bundle(graphs["graph"].pipe(format="svg", encoding="utf-8"), note="no edge labels: too slow")
    assert wide["text/plain"].endswith("(no edge labels: too slow)")


def test_ipython_shows_the_bundle_with_a_text_that_names_no_address(graphs):
    data, _ = DisplayFormatter().format(graphs["dot"])
    assert set(data) == {"image/svg+xml", "text/plain"}
    assert not re.search(r"0x[0-9a-f]{6,}", data["text/plain"]) and "px" in data["text/plain"]
    assert graphs["dot"]._repr_mimebundle_(include=["image/svg+xml"]).keys() == {"image/svg+xml"}
    assert graphs["graph"]._repr_mimebundle_(exclude=["text/html"]).keys() == {"text/plain"}


def test_a_plain_digraph_keeps_graphvizs_display():
    g = graphviz.Digraph()
    g.node("a")
    assert set(g._repr_mimebundle_()) == {"image/svg+xml"}


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LEGIBLE_NOTEBOOKS = ["tutorial.ipynb", "chain-rule-neuron.ipynb", "own-op.ipynb", "batch-compile.ipynb"]

# each output's svgs in a cell: its id, whether it carries the full-size note, whether it offers
# zoom (the stepper's − fit + buttons), and for every svg the smallest text as drawn
SVGS_IN_CELLS = """() => [...document.querySelectorAll('.cell')].map(c => ({
    id: c.id,
    note: /Shown at full size/.test((c.querySelector('.FULL > p') || {}).textContent),
    zoom: !!c.querySelector('button[title^="zoom in"]'),
    fonts: [...c.querySelectorAll('svg')].map(svg => Math.min(...[...svg.querySelectorAll('text')]
        .filter(t => t.textContent.trim() && t.getBBox().width > 0)
        .map(t => parseFloat(getComputedStyle(t).fontSize)
                  * Math.hypot(t.getScreenCTM().c, t.getScreenCTM().d))))
}))""".replace("FULL", FULL_SIZE_CLASS)


def svg_outputs(name: str) -> list[tuple[str, str, dict]]:
    """(cell id, html to show, output data) for every committed output holding an SVG."""
    import nbformat

    nb = nbformat.read(EXAMPLES / name, as_version=4)
    found = []
    for k, c in enumerate(nb.cells):
        for j, out in enumerate(c.get("outputs", []) if c.cell_type == "code" else []):
            data = out.get("data", {})
            if "text/html" in data and "<svg" in data["text/html"]:
                found.append((f"c{k}-{j}", data["text/html"], data))
            elif "image/svg+xml" in data:  # JupyterLab picks the HTML first, else the picture
                svg = data["image/svg+xml"]
                found.append((f"c{k}-{j}", svg[svg.index("<svg"):], data))
    return found


@pytest.mark.parametrize("name", LEGIBLE_NOTEBOOKS)
def test_committed_notebook_graphs_are_legible_in_a_cell_or_shown_at_full_size(name, browser, tmp_path):
    outputs = svg_outputs(name)
    assert len(outputs) >= 3, "the notebook shows its graphs"
    for cid, _, data in outputs:
        if "image/svg+xml" in data and "text/html" not in data:
            # the rule as stated: natural width scaled to a 900 px cell keeps the text >= 9 px
            assert svg_size(data["image/svg+xml"]).shown_font() >= MIN_FONT_PX, (name, cid)
    # and as drawn: each output in a 900 px cell styled as JupyterLab styles outputs
    body = "".join(f'<div class="cell jp-RenderedHTMLCommon" id="{cid}">{html}</div>'
                   for cid, html, _ in outputs)
    for cell in in_chromium(browser, tmp_path, body, SVGS_IN_CELLS):
        small = [round(f, 1) for f in cell["fonts"] if f < MIN_FONT_PX]
        # text too small to read only in a widget that offers zoom (the stepper starts fitted to
        # the width); a graph too wide for the cell says so and is drawn at natural size
        assert not small or cell["zoom"], (name, cell["id"], small)
        if cell["note"]:
            assert min(cell["fonts"]) >= MIN_FONT_PX, (name, cell["id"])


def test_widgets_text_plain_is_the_same_every_run():
    # A notebook committed with outputs keeps each widget's text/plain beside its HTML; an
    # object address there would change the file on every run.
    def widgets():
        a = Value(2.0, label="a")
        out = (a * a).tanh()
        out.label = "out"
        out.backward()
        model = nn.tutorial_network(seed=1)
        X, y = nn.data.tutorial()
        history = nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
                         epochs=3, record_every=1, progress=False)
        return viz.stepper(out), viz.training(model, history), viz.practice("neuron")

    formatter = DisplayFormatter()
    first, second = ([formatter.format(w)[0]["text/plain"] for w in widgets()] for _ in range(2))
    assert first == second
    assert not any(re.search(r"0x[0-9a-f]{6,}", text) for text in first)
    assert "out" in first[0] and "MLP(3 -> 4 sigmoid" in first[1] and "backward pass of o" in first[2]
