"""viz.draw_graph: the chain rule on the edges, contribution colours, node kinds, clusters, collapsing."""

import math
import operator
import re
import time

import pytest
from test_viz_support import (
    SVG,
    dot_clusters,
    groups,
    norm,
    parse_svg,
    shape_fill,
    small_expression,
    stroke,
    tutorial_by_hand,
)

from chainrule import nn
from chainrule.autograd import Value, topo_order
from chainrule.viz import GraphTooLarge, draw_graph, explain
from chainrule.viz.style import NEGATIVE, NO_GRAD, POSITIVE, ZERO
from chainrule.viz.trace import trace

NUM = r"-?(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|inf|nan)"


FLOAT_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow, "neg": operator.neg, "tanh": math.tanh, "exp": math.exp}


def apply(v: Value, args: list[float]) -> float:
    """What node ``v``'s op gives on ``args``, from its ``_op`` name (independent of the engine)."""
    if v._op.startswith("**") and v._op != "**":
        return args[0] ** v._p
    return FLOAT_OPS[v._op](*args)


def svg_of(g):
    return parse_svg(g.pipe(format="svg"))


def close(a, b, rel=2e-3):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def test_edges_show_rule_local_and_contribution_that_sum_to_each_grad():
    o, vals = small_expression()
    o.backward()
    nodes = topo_order(o)
    edges = groups(svg_of(draw_graph(o)), "edge")
    names = trace(o).names
    into = {i: [] for i in range(len(nodes))}
    index = {v: i for i, v in enumerate(nodes)}
    for i, v in enumerate(nodes):
        for slot, child in enumerate(v._prev):
            text = " ".join(edges[f"e{i}_{slot}"])
            d = re.escape(f"∂{names[i]}/∂{names[index[child]]}")  # the operands' names
            m = re.search(rf"{d} = (.+?) = ({NUM})|{d} = ({NUM})$", edges[f"e{i}_{slot}"][0])
            assert m, text
            local = float(m.group(2) or m.group(3))
            # the local derivative by central differences on the op, computed here with math
            args = [c.data for c in v._prev]
            h = 1e-6
            up, down = list(args), list(args)
            up[slot] += h
            down[slot] -= h
            numeric = (apply(v, up) - apply(v, down)) / (2 * h)
            assert close(local, numeric, 1e-3), (v._op, slot, local, numeric)
            g, loc, contrib = (float(x) for x in re.search(
                rf"({NUM}) × ({NUM}) = ({NUM})", edges[f"e{i}_{slot}"][1]).groups())
            assert close(g, v.grad) and close(loc, local) and close(contrib, g * loc, 1e-3)
            into[index[child]].append(contrib)
    for j, v in enumerate(nodes):
        if into[j]:
            assert close(sum(into[j]), v.grad, 5e-3), (j, into[j], v.grad)
    assert any(len(c) > 1 for c in into.values())


def test_grad_shown_as_sum_where_paths_meet():
    o, vals = small_expression()
    o.backward()
    nodes = groups(svg_of(draw_graph(o)), "node")
    x = topo_order(o).index(vals["x"])
    line = [t for t in nodes[f"v{x}"] if t.startswith("grad")][0]
    terms, total = line[len("grad = "):].rsplit(" = ", 1)
    parts = [float(t) for t in terms.split(" + ")]
    assert len(parts) == 4  # x feeds x*w, n*x, 2*x and x/w
    assert close(sum(parts), float(total), 5e-3) and close(float(total), vals["x"].grad)


def test_colour_sign_width_and_dead_relu():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(-1.0, label="c")
    out = a * b + c.relu() + 0.1 * a
    out.backward()
    nodes = topo_order(out)
    i_mul = nodes.index(out._prev[0]._prev[0])
    i_relu = nodes.index(out._prev[0]._prev[1])
    root = svg_of(draw_graph(out))
    to_a, to_b = stroke(root, f"e{i_mul}_0"), stroke(root, f"e{i_mul}_1")
    assert to_a[0] == NEGATIVE.lower()  # d out / d a via a*b is b = -3
    assert to_b[0] == POSITIVE.lower()
    assert to_a[1] > to_b[1]  # |-3| > |2|
    dead = stroke(root, f"e{i_relu}_0")
    assert dead[0] == ZERO.lower() and dead[1] < to_b[1]
    relu_op = shape_fill(root, f"v{i_relu}op")
    assert relu_op[1] == ZERO.lower()  # the dead ReLU's op node is greyed out
    assert shape_fill(root, f"v{i_mul}op")[1] in ("", "none")


def test_before_backward_no_grad_yet_then_numbers():
    o, vals = small_expression()
    before = svg_of(draw_graph(o))
    texts = groups(before, "node")
    value_nodes = [t for t in texts.values() if len(t) >= 3]
    assert value_nodes and all(t[-1] == "no grad yet" for t in value_nodes)
    assert not any("×" in " ".join(t) for t in groups(before, "edge").values())
    assert {stroke(before, e)[0] for e in groups(before, "edge")} == {NO_GRAD.lower()}
    o.backward()
    after = groups(svg_of(draw_graph(o)), "node")
    assert not any("no grad yet" in " ".join(t) for t in after.values())


def test_kinds_look_different():
    out, xs, hidden = tutorial_by_hand()
    loss = (out - 1.0) ** 2
    loss.backward()
    nodes = topo_order(loss)
    root = svg_of(draw_graph(loss))
    kinds = {
        "input": nodes.index(xs[0]),
        "parameter": next(i for i, v in enumerate(nodes) if v.label == "layers.0.neurons.0.w.0"),
        "constant": next(i for i, v in enumerate(nodes) if v.is_constant),
        "intermediate": nodes.index(hidden[0]),
        "output": nodes.index(loss),
    }
    looks = {k: shape_fill(root, f"v{i}") for k, i in kinds.items()}
    assert looks["input"] == ("polygon", "#ddeeff")
    assert looks["parameter"] == ("path", "#fff2b3")  # rounded box
    assert looks["constant"] == ("", "")  # bare text
    assert looks["intermediate"][0] == "polygon" and looks["intermediate"][1] in ("none", "")
    assert looks["output"] == ("polygon", "#e8d5f5")
    assert "(output)" in " ".join(groups(root, "node")[f"v{kinds['output']}"])
    # a parameter is titled by its name inside its neuron's box
    assert groups(root, "node")[f"v{kinds['parameter']}"][0] == "w.0"


def test_params_argument_overrides_the_naming_rule():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    out = a * b
    root = svg_of(draw_graph(out, params=[b]))
    assert shape_fill(root, "v0")[1] == "#ddeeff" and shape_fill(root, "v1")[1] == "#fff2b3"


def test_clusters_follow_nn_names():
    out, xs, hidden = tutorial_by_hand()
    out.backward()
    nodes = topo_order(out)
    g = draw_graph(out)
    clusters = dot_clusters(g.source)
    by_label = {}
    for label, members in clusters.values():
        by_label.setdefault(label, []).append(members)
    # each layer is called once, so its neuron boxes are not boxed again (see viz.drawing.emit)
    assert sorted(by_label) == ["layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2",
                                "layers.0.neurons.3", "layers.1.neurons.0"]
    for i, v in enumerate(nodes):
        inside = [lab for lab, ms in by_label.items() for m in ms if f"v{i}" in m]
        if v in xs:
            assert inside == []
        elif v.label.startswith("layers."):
            assert inside == [".".join(v.label.split(".")[:4])], (v.label, inside)
    labels = {norm(texts[0]) for texts in groups(svg_of(g), "cluster").values() if texts}
    assert "layers.0.neurons.3" in labels
    assert dot_clusters(draw_graph(out, clusters=False).source) == {}


def test_one_cluster_per_call_and_layer_calls_grouped():
    outs = [tutorial_by_hand(x)[0] for x in ((1.0, 0.0, 1.0), (0.0, 1.0, 1.0))]
    # share the parameters between the two calls, as a model applied twice does
    total = outs[0] + outs[1]
    clusters = dot_clusters(draw_graph(total).source)
    labels = sorted(label for label, _ in clusters.values())
    assert labels.count("layers.0.neurons.2") == 2 and labels.count("layers.0") == 2
    assert labels.count("layers.1") == 2


def test_real_nn_mlp_clusters_and_collapse():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=3)
    out = model([0.5, -1.5])
    out.backward()
    clusters = dot_clusters(draw_graph(out).source)
    names = sorted(label for label, _ in clusters.values())
    assert names == ["layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2", "layers.1.neurons.0"]
    collapsed = draw_graph(out, collapse="neuron")
    # collapsed, the neurons are nodes, boxed by layer
    assert sorted(label for label, _ in dot_clusters(collapsed.source).values()) == ["layers.0", "layers.1"]
    root = svg_of(collapsed)
    nodes = groups(root, "node")
    neurons = {t[0]: t for k, t in nodes.items() if k.startswith("n")}
    assert sorted(neurons) == names
    for name, texts in neurons.items():
        v = next(v for v in topo_order(out) if v.label == name and not v.is_leaf)
        assert close(float(texts[1].split()[1]), v.data) and close(float(texts[-1].split()[-1]), v.grad)


def test_collapsed_edges_carry_weight_gradients_and_flow_back():
    out, xs, hidden = tutorial_by_hand()
    loss = (out - 1.0) ** 2
    loss.backward()
    params = {v.label: v for v in topo_order(loss) if v.is_leaf and v.label}
    root = svg_of(draw_graph(loss, collapse="neuron"))
    edges = groups(root, "edge")
    passed_back = 0.0
    nodes = topo_order(loss)
    x0 = nodes.index(xs[0])
    for j in range(4):
        cid = next(k for k, t in groups(root, "node").items() if t and t[0] == f"layers.0.neurons.{j}")
        text = edges[f"e_{cid}_{x0}"]
        w = params[f"layers.0.neurons.{j}.w.0"]
        m = re.match(rf"w\.0 = ({NUM}), ∂w\.0 = ({NUM})", text[0])
        assert m and close(float(m.group(1)), w.data) and close(float(m.group(2)), w.grad, 5e-3)
        passed_back += float(re.match(rf"passes back ({NUM})", text[1]).group(1))
    assert close(passed_back, xs[0].grad, 5e-3)


def test_large_graph_collapses_by_itself_and_says_so():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = model([0.3, -0.7])
    out.backward()
    start = time.perf_counter()
    with pytest.warns(GraphTooLarge, match="collapsed to one node per neuron"):
        g = draw_graph(out)
    root = svg_of(g)
    elapsed = time.perf_counter() - start
    title = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "collapsed to one node per neuron" in title
    nodes = groups(root, "node")
    assert sum(1 for k in nodes if k.startswith("n")) == 33
    assert elapsed < 10
    # below the threshold nothing collapses
    small = draw_graph(out, max_nodes=None, edge_labels=False).source
    assert "n0 [" not in small


def test_large_graph_without_modules_drops_edge_labels():
    x = Value(1.0, label="x")
    y = x
    for _ in range(250):
        y = y * 1.01
    with pytest.warns(GraphTooLarge, match="edge labels left out"):
        g = draw_graph(y)
    assert "∂/∂" not in g.source


def test_bad_arguments_are_named():
    o, _ = small_expression()
    with pytest.raises(ValueError, match="collapse='neuron'.*no nn module"):
        draw_graph(o, collapse="neuron")
    with pytest.raises(ValueError, match="collapse='layers'"):
        draw_graph(o, collapse="layers")
    with pytest.raises(ValueError, match="max_nodes=0"):
        draw_graph(o, max_nodes=0)
    with pytest.raises(TypeError, match="draw_graph.*list"):
        draw_graph([o])


def test_undefined_local_derivative_is_drawn_not_raised():
    base, power = Value(-2.0, label="base"), Value(2.0, label="power")
    out = base ** power  # d/d power = out * log(base) has no real value for base < 0
    root = svg_of(draw_graph(out, grads=True))
    label = groups(root, "edge")["e2_1"]
    assert label[0].startswith("∂(base**power)/∂power = ") and label[0].endswith(" = nan")
    assert label[1].endswith("= nan")
    assert stroke(root, "e2_1")[0] == ZERO.lower()
    # no sum is claimed for the operands, and the title does not blame accumulation for the nan
    assert groups(root, "node")["v0"][-1] == "grad 0 (edges here: nan)"
    assert "accumulated" not in graph_title(draw_graph(out, grads=True))
    with pytest.raises(ValueError, match=r"'\*\*' node"):
        explain(out)  # the text replays backward, which has no number to give here either


def grad_row(g, v: Value, root: Value) -> str:
    """The grad row (the last line) of value ``v``'s node in the rendered ``g``."""
    return groups(svg_of(g), "node")[f"v{topo_order(root).index(v)}"][-1]


def graph_title(g) -> str:
    """The graph's own label (empty if it has none)."""
    root = svg_of(g)
    top = next(el for el in root.iter(f"{SVG}g") if el.get("class") == "graph")
    return " ".join("".join(t.itertext()) for t in top.findall(f"{SVG}text"))


def test_a_grad_accumulated_over_two_passes_is_not_written_as_this_pass_sum():
    a = Value(2.0, label="a")
    L = a * a
    L.backward()
    assert grad_row(draw_graph(L), a, L) == "grad = 2 + 2 = 4"
    assert "edges here" not in graph_title(draw_graph(L))
    L.backward()  # a leaf accumulates: 8; the edges show one pass, 2 + 2
    g = draw_graph(L)
    assert grad_row(g, a, L) == "grad 8 (edges here: 2 + 2 = 4)"
    assert "accumulated over several backward() calls" in graph_title(g)
    assert grad_row(draw_graph(L), L, L) == "grad 1"  # the root is reset and seeded each pass


def test_a_grad_from_before_a_data_change_is_not_written_as_the_edges_sum():
    x = Value(3.0, label="x")
    y = x ** 2        # lazy: its local derivative 2x is recomputed from x's data when asked
    z = y * x         # stores its local derivatives (y and x) when built
    z.label = "z"
    z.backward()
    assert grad_row(draw_graph(z), x, z) == "grad = 9 + 18 = 27"
    x.data = 1.0      # an optimizer step: now ∂y/∂x reads 2, so y passes back 3 × 2 = 6
    g = draw_graph(z)
    assert grad_row(g, x, z) == "grad 27 (edges here: 9 + 6 = 15)"
    assert "data changed after backward()" in graph_title(g)
    # one edge that no longer gives the grad is marked too
    w = Value(3.0, label="w")
    s = w ** 2
    s.backward()
    w.data = 1.0
    assert grad_row(draw_graph(s), w, s) == "grad 6 (edges here: 2)"


def test_relabelled_model_output_drawn_in_its_cluster_in_both_views():
    model = nn.tutorial_network(1)
    out = model([1.0, 0.0, 1.0])
    out.label = "out"
    loss = (out - 1.0) ** 2
    loss.backward()
    nodes = topo_order(loss)
    clusters = dot_clusters(draw_graph(loss).source)
    neurons = {label: members for label, members in clusters.values() if ".neurons." in label}
    assert len(neurons) == 5
    assert f"v{nodes.index(out)}" in neurons["layers.1.neurons.0"]
    assert f"v{nodes.index(loss)}" not in set().union(*neurons.values())
    collapsed = draw_graph(loss, collapse="neuron")
    ids = set(groups(svg_of(collapsed), "node"))
    assert {k for k in ids if k.startswith("n")} == {f"n{k}" for k in range(5)}
    assert groups(svg_of(collapsed), "node")["n4"][0] == "layers.1.neurons.0 (out)"
    # no loose scalar node of the output neuron: its weights, products and sums are inside n4
    loose = [nodes[int(k[1:])] for k in ids if re.fullmatch(r"v\d+", k)]
    assert not any(v.label.startswith("layers.") or v is out for v in loose), [v.label for v in loose]


def test_a_collapsed_view_with_many_neuron_inputs_moves_their_numbers_to_tooltips():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = model([0.3, -0.7])
    out.backward()
    g = draw_graph(out, collapse="neuron")
    root = svg_of(g)
    assert "304 edges into neurons (more than 60)" in graph_title(g)
    edges = {k: t for k, t in groups(root, "edge").items() if k.startswith("e_n")}
    assert len(edges) == 304 and not any(edges.values())  # no label text on them
    # each tooltip says what the label would: the weight, its gradient, what passes back
    w = model.layers[1].neurons[2].w[5]
    tips = [a.get("{http://www.w3.org/1999/xlink}title") for a in root.iter(f"{SVG}a")]
    assert any(t and t.startswith(f"w.5 = {w.data:.4g}, ∂w.5 = {w.grad:.4g}") for t in tips)
    # the tutorial's 16 edges keep their labels
    small, _, _ = tutorial_by_hand()
    small.backward()
    source = draw_graph(small, collapse="neuron").source
    assert "w.0 = " in source and "tooltip" not in source
