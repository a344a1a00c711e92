"""No render hangs: dot runs under a time limit, views fall back and say so; long labels."""

import importlib
import json
import re

import graphviz
import pytest
from test_viz_support import groups, parse_svg

from chainrule import nn, viz
from chainrule.autograd import Value, topo_order
from chainrule.viz.render import RenderTimeout, run_dot

render_module = importlib.import_module("chainrule.viz.render")  # viz.render is also a function


def sum_of(n: int) -> Value:
    a = Value(1.0, label="a")
    total = a
    for _ in range(n - 1):
        total = total + a
    total.backward()
    return total


def test_dot_past_its_time_limit_raises_render_timeout():
    big = viz.draw_graph(sum_of(40), edge_labels=False).source
    with pytest.raises(RenderTimeout, match="more than 0.001 s"):
        run_dot(big, "svg", time_limit=0.001)


def test_set_time_limit_changes_every_graphs_default():
    big = viz.draw_graph(sum_of(40), edge_labels=False).source
    previous = viz.set_time_limit(0.002)
    try:
        assert previous == 10.0
        with pytest.raises(RenderTimeout, match="more than 0.002 s"):
            run_dot(big, "svg")
    finally:
        assert viz.set_time_limit(previous) == 0.002
    for bad in (0, -1, float("nan"), float("inf"), True, "5"):
        with pytest.raises(ValueError, match="set_time_limit: seconds"):
            viz.set_time_limit(bad)


def test_a_view_past_the_limit_falls_back_and_says_so(monkeypatch):
    model = nn.MLP(2, [3, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    g = viz.draw_graph(loss, collapse=False)
    assert [why for why, _ in g.fallbacks] == ["edge labels beside their edges", "edge labels left out",
                                              "collapsed to one node per neuron"]
    real = render_module.run_dot
    tried = []

    def slow_unless_collapsed(source, fmt, engine="dot", time_limit=None):
        tried.append(source)
        if "\tn0 [" not in source:  # every picture but the collapsed one "takes too long"
            raise RenderTimeout("Graphviz's dot took more than 10 s to lay this graph out")
        return real(source, fmt, engine, time_limit)

    monkeypatch.setattr(render_module, "run_dot", slow_unless_collapsed)
    svg = parse_svg(g.pipe(format="svg"))
    assert len(tried) == 4
    title = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "collapsed to one node per neuron: dot took more than 10 s to lay out the full picture, " \
           "then edge labels beside their edges, then edge labels left out" in title
    assert g.rendered_note.startswith("collapsed to one node per neuron")
    assert "n0" in groups(svg, "node")  # one node per neuron call


def test_when_nothing_fits_a_small_picture_says_how_to_get_the_full_one(tmp_path):
    g = viz.draw_graph(sum_of(10))
    g.time_limit = 0.0001  # nothing can be laid out this fast
    out = viz.render(g, tmp_path / "g.svg")
    text = " ".join(groups(parse_svg(out.read_bytes()), "node")["note"])
    assert "could not be laid out within 0.0001 s" in text and "save_source" in text
    assert g.rendered_note.startswith("This graph could not be laid out")


def test_plain_digraphs_are_time_limited_too(tmp_path, monkeypatch):
    monkeypatch.setattr(render_module, "TIME_LIMIT", 0.0001)
    plain = graphviz.Digraph(body=["\ta -> b\n"] * 200)
    with pytest.raises(RenderTimeout):
        viz.render(plain, tmp_path / "p.svg")
    assert not (tmp_path / "p.svg").exists()


def test_a_value_used_many_times_gets_labels_beside_its_edges():
    out = sum_of(61)  # `chainrule graph` on a+a+...+a: minutes in dot with labels on the edges
    g = viz.draw_graph(out)
    assert "xlabel=<" in g.source and " label=<∂" not in g.source
    svg = parse_svg(g.pipe(format="svg"))
    assert g.rendered_note is None  # laid out within the limit, no fallback needed
    title = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "a value used 61 times (more than 12)" in title
    labels = [t for ts in groups(svg, "edge").values() for t in ts]
    assert sum(t.startswith("∂") for t in labels) == 2 * 60  # every edge still labelled


def test_labels_past_what_dot_accepts_are_shortened_visibly(tmp_path):
    a = Value(1.0, label="x" * 20000)
    b = a * a
    b.backward()
    for g in (viz.draw_graph(b), viz.draw_dot(b)):
        svg = g.pipe(format="svg", encoding="utf-8")
        assert "… (+19500 characters)" in svg and "x" * 500 in svg and "x" * 501 not in svg
    page = viz.write_stepper(b, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "… (+19500 characters)" in page


def test_a_large_network_steps_one_neuron_at_a_time_and_ends_at_the_engine_grads():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    xs = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    loss = (model(xs) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    assert len(topo_order(loss)) > 900
    page = viz.stepper_html(loss)
    assert "one step per neuron: the graph has" in page and "more than max_nodes=400" in page
    data = json.loads(re.search(r'<script type="application/json" class="crs-data">(.*?)</script>', page,
                                re.S).group(1))
    frames = data["frames"]
    assert len(frames) == 16 + 16 + 1 + 3 + 2  # neurons; loss, difference, constant 1; inputs
    shown = {}
    for f in frames:
        shown.update(f["set"])
    nodes = topo_order(loss)
    for i, v in enumerate(nodes):
        if v.label in ("x0", "x1", "loss"):
            assert float(shown[f"v{i}"].split()[-1]) == pytest.approx(v.grad, rel=1e-3)
    # each neuron node ends at its output's grad, the sum of what its users passed back
    for neuron in model.layers[1].neurons:
        outputs = [i for i, v in enumerate(nodes) if v.label == neuron.name]
        assert len(outputs) == 1
    assert all(key.startswith(("v", "n")) for key in shown)
    finals = [float(text.split()[-1]) for key, text in shown.items() if key.startswith("n")]
    assert len(finals) == 33
    # neuron node n<k> is the k-th neuron call in topological order
    outputs = [v for v in nodes if v.label in {n.name for layer in model.layers for n in layer.neurons}]
    assert len(outputs) == 33
    for k, v in enumerate(outputs):
        assert float(shown[f"n{k}"].split()[-1]) == pytest.approx(v.grad, rel=1e-3, abs=1e-12), k


def note_of(graph) -> str:
    """The text of the one box a view draws instead of a graph too large to lay out."""
    nodes = groups(parse_svg(graph.pipe(format="svg")), "node")
    assert list(nodes) == ["note"]
    return " ".join(nodes["note"])


def test_views_past_max_nodes_say_so_at_once_instead_of_waiting_for_dot():
    model = nn.MLP(2, [4, 4, 1], seed=0)
    xs = [[Value(0.1 * k, label=f"x{k}.0"), Value(-0.2 * k, label=f"x{k}.1")] for k in range(30)]
    loss = sum((model(x) - 1.0) ** 2 for x in xs)  # 30 calls of 9 neurons
    loss.backward()
    size = len(topo_order(loss)) + sum(1 for v in topo_order(loss) if not v.is_leaf)
    assert size > 400
    graph = viz.draw_dot(loss)
    assert graph.rendered_note.startswith(f"draw_dot: {size} value and op nodes, more than max_nodes=400")
    assert "draw_graph" in note_of(graph)
    assert "n0 [" in viz.draw_graph(loss, max_nodes=None, collapse="neuron", edge_labels=False).source
    with pytest.warns(viz.GraphTooLarge, match=r"even collapsed to one node per neuron call"):
        graph = viz.draw_graph(loss)  # 270 neuron calls: no picture to read, so none is laid out
    assert "viz.draw_network(model)" in note_of(graph)
    assert graph.rendered_note.startswith("draw_graph: not drawn")  # kept after rendering
    with pytest.warns(viz.GraphTooLarge, match=r"not drawn: 270 neuron calls"):
        graph = viz.draw_graph(loss, max_nodes=100)  # counted by label, before any tracing
    assert "270 neuron calls" in note_of(graph)
    with pytest.warns(viz.GraphTooLarge, match=r"even collapsed"):
        assert viz.draw_graph(loss, collapse="neuron").rendered_note.startswith("draw_graph: not drawn")
    graph = viz.draw_modes(loss, xs[0][0])
    assert "more than max_nodes=400: not drawn" in note_of(graph)
    # below max_nodes the views draw the graph itself
    assert "v0 [" in viz.draw_dot(loss, max_nodes=None).source
    assert "forward" in viz.draw_modes(loss, xs[0][0], max_nodes=None).source


def test_a_batch_too_large_even_neuron_by_neuron_is_refused_at_once_without_dot(monkeypatch):
    stepper_module = importlib.import_module("chainrule.viz.stepper")  # viz.stepper is a function

    def no_dot(*args, **kwargs):
        raise AssertionError("dot was run on a graph past the stepper's limit")

    monkeypatch.setattr(stepper_module, "run_dot", no_dot)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    terms = []
    for k in range(13):  # 13 samples: 429 neuron calls, more than 400 even one node per call
        xs = [Value(0.1 * k, label=f"x{k}.0"), Value(-0.05 * k, label=f"x{k}.1")]
        terms.append((model(xs) - 1.0) ** 2)
    loss = sum(terms)
    loss.backward()
    values = len(topo_order(loss))
    with pytest.raises(ValueError) as err:
        viz.stepper_html(loss)
    text = str(err.value)
    assert f"the graph has {values} values and 429 neuron calls, more than 400 nodes" in text
    assert "viz.draw_network(model)" in text and "viz.write_training" in text and "\n" not in text
    # few neuron calls but hundreds of values outside neurons: counted after tracing, still before dot
    small = nn.MLP(2, [3, 1], seed=0)
    out = small([Value(0.3, label="x0"), Value(-0.2, label="x1")])
    penalty = sum(Value(0.01 * i) * Value(0.02 * i) for i in range(300))
    loss = out + penalty
    loss.backward()
    with pytest.raises(ValueError, match=r"nodes at neuron level .*more than 400 nodes"):
        viz.stepper_html(loss)
    with pytest.raises(AssertionError, match="dot was run"):  # max_nodes=None: laid out anyway
        viz.stepper_html(loss, max_nodes=None)
