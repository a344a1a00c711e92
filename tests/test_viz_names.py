"""Names in pictures and text: operands' names on edges, readable names for unlabelled values."""

import re

from chainrule import nn, viz
from chainrule.autograd import Value
from chainrule.viz.names import node_names
from chainrule.viz.trace import trace


def test_no_bare_topo_index_in_explain_or_pictures_of_a_network():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    xs = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    loss = (model(xs) - 1.0) ** 2
    loss.backward()
    text = viz.explain(loss)
    assert not re.search(r"\bv\d+\b", text)
    # a neuron's own terms: its products, its running sums, its pre-activation
    assert "layers.0.neurons.1.w.0·x.0 = layers.0.neurons.1.w.0 * x0" in text
    n = "layers.0.neurons.1"
    assert f"{n}.Σw·x.0..1 = ({n}.w.0·x.0) + ({n}.w.1·x.1)" in text
    assert "layers.0.neurons.1.z = (layers.0.neurons.1.Σw·x.0..1) + layers.0.neurons.1.b" in text
    source = viz.draw_graph(loss, collapse=False).source
    titles = re.findall(r"<B>(.*?)</B>", source)
    assert "w.0·x.0" in titles and "Σw·x.0..1" in titles and "z" in titles
    assert not any(re.fullmatch(r"v\d+", t) for t in titles)


def test_edge_labels_use_the_operands_names_as_explain_does():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    out = (a * b + c).tanh()
    out.label = "out"
    out.backward()
    source = viz.draw_graph(out).source
    # c feeds a + b: the edge reads ∂(a*b+c)/∂c = 1, never ∂/∂b
    assert "∂((a*b)+c)/∂c = 1" in source and "∂/∂" not in source
    # a label longer than a line is broken before its " = " (viz.style.wrap)
    assert "∂out/∂((a*b)+c)<BR/>= 1 - out**2" in source
    assert "∂((a*b)+c)/∂c = 1" in viz.explain(out)


def test_user_labels_win_and_derived_names_never_take_a_label():
    a = Value(1.0, label="a")
    b = Value(2.0)
    s = a * b
    t2 = a * b          # the same expression again: told apart
    u = s + t2
    u.label = "leaf1"   # a user's label that a derived name would otherwise take
    names = trace(u).names
    assert names == ["a", "leaf2", "(a*leaf2)", "(a*leaf2)#2", "leaf1"]


def test_long_expressions_fall_back_to_the_op_and_a_count():
    a = Value(1.0, label="alpha_long_name")
    total = a
    for _ in range(3):
        total = total + a
    names = trace(total).names
    assert names == ["alpha_long_name", "sum1", "sum2", "sum3"]


def test_node_names_takes_the_owning_module_into_account():
    w, x = Value(0.5, label="n.w.0"), Value(2.0, label="x")
    p = w * x
    p.label = ""
    assert node_names([w, x, p], {2: "n"}, lambda i, ns: "unused") == ["n.w.0", "x", "n.w.0·x.0"]
