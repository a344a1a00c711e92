"""viz.draw_network: neurons and weights, ∂loss/∂w summed over the batch, or one sample's own."""

import re

import pytest
from test_viz_support import SVG, parse_svg

from chainrule import nn, viz
from chainrule.autograd import Value, topo_order


def batch_loss(model, X, y):
    total = None
    for x, t in zip(X, y):
        term = (Value(float(t)) - model([float(v) for v in x])) ** 2
        total = term if total is None else total + term
    return total


def tooltips(svg_root, kind: str = "edge") -> dict[str, str]:
    """Each edge's (or, with ``kind='node'``, each node's) id -> its tooltip text."""
    out = {}
    for g in svg_root.iter(f"{SVG}g"):
        if g.get("class") == kind:
            a = next(g.iter(f"{SVG}a"), None)
            out[g.get("id")] = a.get("{http://www.w3.org/1999/xlink}title") if a is not None else ""
    return out


def strokes(svg_root) -> dict[str, tuple[str, float]]:
    """Each edge's id -> the colour and width of its line."""
    out = {}
    for g in svg_root.iter(f"{SVG}g"):
        if g.get("class") == "edge":
            path = next(g.iter(f"{SVG}path"))
            out[g.get("id")] = (path.get("stroke").upper(), float(path.get("stroke-width", "1")))
    return out


def numbers(tip: str) -> tuple[float, float]:
    w, d = re.fullmatch(r"w = (\S+), ∂\S+/∂w = (\S+)", tip).groups()
    return float(w), float(d)


def test_batch_summed_gradients_are_the_parameters_grads_and_central_differences():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network(seed=1)
    loss = batch_loss(model, X, y)
    model.zero_grad()
    loss.backward()
    root = parse_svg(viz.draw_network(model).pipe(format="svg"))
    tips = tooltips(root)
    assert len(tips) == 3 * 4 + 4  # one edge per weight
    for li, layer in enumerate(model.layers):
        for k, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                shown_w, shown_d = numbers(tips[f"L{li}n{k}w{i}"])
                assert shown_w == pytest.approx(w.data, rel=1e-3)
                assert shown_d == pytest.approx(w.grad, rel=1e-3, abs=1e-9)
                # and the grad is the batch loss's slope: central differences on the data
                h = 1e-6
                old = w.data
                w.data = old + h
                up = batch_loss(model, X, y).data
                w.data = old - h
                down = batch_loss(model, X, y).data
                w.data = old
                assert shown_d == pytest.approx((up - down) / (2 * h), rel=2e-3, abs=1e-6)


def test_bias_gradients_are_the_parameters_grads_and_central_differences():
    X, y = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.9]], [1.0, -0.5, 0.2]
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    model.zero_grad()
    batch_loss(model, X, y).backward()
    tips = tooltips(parse_svg(viz.draw_network(model).pipe(format="svg")), "node")
    for li, layer in enumerate(model.layers):
        for k, neuron in enumerate(layer.neurons):
            shown = float(re.search(r"∂loss/∂b = ([-+.\de]+)", tips[f"L{li}n{k}"]).group(1))
            assert shown == pytest.approx(neuron.b.grad, rel=1e-3, abs=1e-9)
            h, old = 1e-6, neuron.b.data
            neuron.b.data = old + h
            up = batch_loss(model, X, y).data
            neuron.b.data = old - h
            down = batch_loss(model, X, y).data
            neuron.b.data = old
            assert shown == pytest.approx((up - down) / (2 * h), rel=2e-3, abs=1e-6)


def test_same_size_for_one_sample_or_a_thousand_and_per_sample_contributions_add_up():
    rng_X = [[(k * 7 % 11) / 11, (k * 5 % 13) / 13, (k % 2)] for k in range(1000)]
    model = nn.tutorial_network(seed=1)
    sizes = []
    for n in (1, 1000):
        model.zero_grad()
        batch_loss(model, rng_X[:n], [1.0] * n).backward()
        g = viz.draw_network(model)
        svg = g.pipe(format="svg", encoding="utf-8")
        sizes.append(re.search(r'width="(\d+)pt" height="(\d+)pt"', svg).groups())
    assert sizes[0] == sizes[1]
    # the per-sample view: each sample's own ∂loss/∂w, which add up to the batch's
    X, y = nn.data.tutorial()
    model.zero_grad()
    batch_loss(model, X, y).backward()
    batch = tooltips(parse_svg(viz.draw_network(model).pipe(format="svg")))
    per = [tooltips(parse_svg(viz.draw_network(model, sample=batch_loss(model, [x], [t])).pipe(format="svg")))
           for x, t in zip(X, y)]
    for eid, tip in batch.items():
        total = sum(numbers(p[eid])[1] for p in per)
        assert total == pytest.approx(numbers(tip)[1], rel=1e-4, abs=1e-6), eid


def test_a_sample_view_shows_the_neuron_values_and_says_which_view_it_is():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    sample = (model([0.5, -1.0]) - 1.0) ** 2
    sample.label = "L"
    source = viz.draw_network(model, sample=sample).source
    assert "one sample: its neuron values and its own" in source.replace("&#32;", " ")
    assert "value" in source and "∂L/∂w" in source
    h = model.layers[0].neurons[0]
    assert f"value {float(f'{h([0.5, -1.0]).data:.3g}'):.3g}" in source


def test_before_backward_only_weights_and_by_weight_colours():
    model = nn.MLP(2, [2, 1], seed=0)
    g = viz.draw_network(model, by="weight")
    assert "backward()&#32;has&#32;not&#32;run" in g.source and "∂loss/∂w" not in g.source.split("label=")[-1]
    lines = strokes(parse_svg(g.pipe(format="svg")))
    weights = {f"L{li}n{k}w{i}": w.data for li, layer in enumerate(model.layers)
               for k, neuron in enumerate(layer.neurons) for i, w in enumerate(neuron.w)}
    assert sorted(lines) == sorted(weights)
    for eid, w in weights.items():  # blue for a positive weight, orange for a negative one
        assert lines[eid][0] == ("#0072B2" if w > 0 else "#E69F00"), (eid, w)
    by_size = sorted(weights, key=lambda e: abs(weights[e]))  # wider for a larger |w|, 5 at the largest
    assert [lines[e][1] for e in by_size] == sorted(lines[e][1] for e in by_size)
    assert lines[by_size[-1]][1] == 5.0


def test_bad_arguments_are_named():
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="by must be one of"):
        viz.draw_network(model, by="size")
    with pytest.raises(TypeError, match="nn Module"):
        viz.draw_network([1, 2])
    with pytest.raises(TypeError, match="sample must be"):
        viz.draw_network(model, sample=3.0)
    with pytest.raises(TypeError, match="edge_labels"):
        viz.draw_network(model, edge_labels="yes")


def svg_px(svg: str) -> tuple[float, float]:
    """The natural size of dot's SVG in CSS pixels: dot writes it in points, 4/3 of a pixel."""
    width, height = (int(v) for v in re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', svg).groups())
    return width * 4 / 3, height * 4 / 3


def smallest_font_px(svg: str) -> float:
    """The smallest font size of the SVG's text in CSS pixels at its natural size (dot's
    user units are points: its viewBox has the size it declares in pt)."""
    sizes = [float(v) for v in re.findall(r'font-size="([0-9.]+)"', svg)]
    assert sizes
    return min(sizes) * 4 / 3


def test_the_demos_pictures_fit_a_1920_by_1080_screen_or_come_within_twice_it(tmp_path):
    from chainrule.cli import main

    assert main(["demo", "--out", str(tmp_path), "--no-progress", "--iterations", "20"]) == 0
    svg = (tmp_path / "network.svg").read_text(encoding="utf-8")
    width, height = svg_px(svg)
    assert width <= 1920 and height <= 1080, (width, height)  # the network view fits the screen
    assert smallest_font_px(svg) >= 9
    assert "∂loss/∂w" in svg and svg.count('class="edge"') == 16
    # the one-example scalar graph: within twice the screen each way, text legible at that size
    svg = (tmp_path / "example-graph.svg").read_text(encoding="utf-8")
    width, height = svg_px(svg)
    assert width <= 2 * 1920 and height <= 2 * 1080, (width, height)
    assert smallest_font_px(svg) >= 9
    # ... with every value and op node and every edge still drawn, each operand edge labelled
    from chainrule.commands.demo import example_loss

    X, y = nn.data.tutorial()
    values = topo_order(example_loss(nn.tutorial_network(seed=1), X[1], float(y[1])))
    ops = [v for v in values if not v.is_leaf]
    operands = sum(len(v._prev) for v in ops)
    assert svg.count('class="node"') == len(values) + len(ops)
    assert svg.count('class="edge"') == len(ops) + operands
    assert len(re.findall(r"<text[^>]*>∂[^<]*/∂", svg)) == operands
    # the stepper's graph of the same example (its edge labels wrapped too): within twice the
    # screen, legible, every operand edge still labelled
    page = (tmp_path / "backward.html").read_text(encoding="utf-8")
    assert page.count("<svg ") == 1
    svg = page[page.index("<svg "):page.index("</svg>")]
    width, height = svg_px(svg)
    assert width <= 2 * 1920 and height <= 2 * 1080, (width, height)
    assert smallest_font_px(svg) >= 9
    assert len(re.findall(r"<text[^>]*>∂[^<]*/∂", svg)) == operands
    page = (tmp_path / "training.html").read_text(encoding="utf-8")  # training over time, too
    assert page.count('class="chainrule-training"') == 1 and '"steps":20' in page
