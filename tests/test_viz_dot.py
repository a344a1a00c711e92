"""viz.draw_dot (the lecture view), rendering to files, and a missing Graphviz install."""

import shutil
import subprocess
import sys

import graphviz
import pytest
from test_viz_support import groups, norm, parse_svg, small_expression

from chainrule.autograd import Value, topo_order
from chainrule.viz import GraphvizNotFound, draw_dot, draw_graph, render, save_source, write_stepper


def test_lecture_records_and_op_nodes_render_through_dot():
    o, vals = small_expression()
    o.backward()
    g = draw_dot(o)
    assert isinstance(g, graphviz.Digraph) and g.format == "svg"
    assert "rankdir=LR" in g.source
    root = parse_svg(g.pipe(format="svg"))
    nodes = groups(root, "node")
    order = topo_order(o)
    values = {}
    for texts in nodes.values():
        if len(texts) == 3:  # a record: label | data | grad
            values[norm(texts[0]) if texts[0].strip() else None, texts[1]] = texts[2]
    for v in order:
        key = (v.label or None, f"data {v.data:.4f}")
        if v.label:
            assert values[key] == f"grad {v.grad:.4f}", v
    ops = sorted(t[0] for t in nodes.values() if len(t) == 1)
    assert ops == sorted(v._op for v in order if not v.is_leaf)
    # every edge from an operand to its user's op node, duplicates kept
    assert len(groups(root, "edge")) == sum(len(v._prev) + 1 for v in order if not v.is_leaf)


def test_a_plus_a_draws_two_edges():
    a = Value(1.5, label="a")
    g = draw_dot(a + a)
    assert g.source.count("v0 -> v1op") == 2
    assert len(groups(parse_svg(g.pipe(format="svg")), "edge")) == 3


def test_same_code_same_source_even_in_another_process():
    def build():
        o, _ = small_expression()
        o.backward()
        return draw_dot(o).source + draw_graph(o).source

    assert build() == build()
    code = ("import sys; sys.path.insert(0, 'tests'); from test_viz_support import small_expression; "
            "from chainrule.viz import draw_dot, draw_graph; o, _ = small_expression(); o.backward(); "
            "sys.stdout.write(draw_dot(o).source + draw_graph(o).source)")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=str(_root()))
    assert other.stdout == build()


def _root():
    from pathlib import Path
    return Path(__file__).resolve().parents[1]


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="draw_dot.*Value.*float"):
        draw_dot(1.0)
    with pytest.raises(ValueError, match="rankdir.*LR"):
        draw_dot(Value(1.0), rankdir="sideways")
    with pytest.raises(ValueError, match="suffix"):
        render(draw_dot(Value(1.0)), "graph")


def test_render_writes_files(tmp_path):
    o, _ = small_expression()
    g = draw_graph(o)
    svg = render(g, tmp_path / "g.svg")
    assert parse_svg(svg.read_bytes()).tag.endswith("svg")
    png = render(g, tmp_path / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    src = render(g, tmp_path / "g.dot")
    assert src.read_text(encoding="utf-8") == g.source


def test_missing_dot_says_how_to_install_and_source_still_saves(tmp_path, monkeypatch):
    assert shutil.which("dot"), "these tests need Graphviz's dot"
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    o, _ = small_expression()
    for g in (draw_dot(o), draw_graph(o)):
        with pytest.raises(GraphvizNotFound, match="apt-get install graphviz.*brew install graphviz"):
            g.pipe(format="svg")
        with pytest.raises(graphviz.ExecutableNotFound, match="graph.save"):
            render(g, tmp_path / "out.svg")
        with pytest.raises(GraphvizNotFound):
            g.render(tmp_path / "out", format="svg")
        with pytest.raises(GraphvizNotFound):
            g._repr_mimebundle_()  # what Jupyter calls to show it inline
        saved = save_source(g, tmp_path / "out.dot")
        assert saved.read_text(encoding="utf-8") == g.source
        g.save(tmp_path / "out2.gv")
        assert (tmp_path / "out2.gv").read_text(encoding="utf-8") == g.source
    with pytest.raises(GraphvizNotFound):
        write_stepper(o, tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_shows_inline_in_jupyter():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "from chainrule.autograd import Value\nfrom chainrule import viz\n"
        "a = Value(2.0, label='a')\nb = a * a\nb.backward()\nviz.draw_dot(b)"))
    nb.cells.append(nbformat.v4.new_code_cell("viz.draw_graph(b)"))
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    lecture, chain = (cell.outputs[0]["data"]["image/svg+xml"] for cell in nb.cells)
    texts = groups(parse_svg(lecture), "node")
    assert ["a", "data 2.0000", "grad 4.0000"] in texts.values()
    assert "∂(a*a)/∂a = a = 2" in chain and "grad = 2 + 2 = 4" in chain


def test_unknown_format_is_named():
    with pytest.raises(ValueError, match="format"):
        draw_dot(Value(1.0), format="bmpx")
