"""Code written the way micrograd's README and the lecture notebook write it runs unchanged.

The code below is written in that style (labels set by hand, ``_backward()`` called node by
node, a recursive ``trace`` over ``_prev`` and ``_op``); expected numbers come from sympy
or from derivations written out in the tests.
"""

from __future__ import annotations

import math

import graphviz
import pytest
import sympy as sp

from chainrule.autograd import Value


def lecture_expression():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    return a, b, c, d, e, f, L


def build_topo(root):
    """Recursive topological order over ``_prev``, as the lecture writes it."""
    topo, visited = [], set()

    def visit(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                visit(child)
            topo.append(v)

    visit(root)
    return topo


def trace(root):
    """All nodes and (child, parent) edges reachable from root, lecture style."""
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def draw_dot(root):
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        label = "{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad)  # noqa: UP031 - as the lecture
        dot.node(name=uid, label=label, shape="record")
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def test_labels_data_and_manual_grads():
    a, b, c, d, e, f, L = lecture_expression()
    assert (a.label, e.label, L.label) == ("a", "e", "L")
    assert L.data == -8.0 and d.data == 4.0 and e.data == -6.0
    assert L._op == "*" and d._op == "+" and a._op == ""
    assert L._prev == (d, f) and d._prev == (e, c) and e._prev == (a, b)
    # the lecture's manual pass: set grads by hand, then let backward() agree
    L.backward()
    # L = (a*b + c) * f: dL/dd = f, dL/df = d, dL/da = f*b, dL/db = f*a
    assert (L.grad, d.grad, f.grad, c.grad, e.grad) == (1.0, -2.0, 4.0, -2.0, -2.0)
    assert (a.grad, b.grad) == (6.0, -4.0)


def test_nudging_inputs_along_the_gradient_increases_L():
    a, b, c, d, e, f, L = lecture_expression()
    L.backward()
    for leaf in (a, b, c, f):
        leaf.data += 0.01 * leaf.grad
    L2 = (a * b + c) * f
    assert L2.data > L.data


def lecture_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return (x1, x2, w1, w2, b), (x1w1, x2w2, x1w1x2w2, n, o)


def _expected_neuron_grads(inputs):
    x1, x2, w1, w2, b = (v.data for v in inputs)
    t = math.tanh(x1 * w1 + x2 * w2 + b)
    dn = 1 - t * t  # d tanh(n)/dn
    return {"x1": w1 * dn, "w1": x1 * dn, "x2": w2 * dn, "w2": x2 * dn, "b": dn}


def test_backward_by_hand_one_node_at_a_time():
    inputs, (x1w1, x2w2, x1w1x2w2, n, o) = lecture_neuron()
    o.grad = 1.0
    for node in (o, n, x1w1x2w2, x2w2, x1w1):
        node._backward()
    expected = _expected_neuron_grads(inputs)
    for v in inputs:
        assert math.isclose(v.grad, expected[v.label], rel_tol=1e-12, abs_tol=1e-15), v.label
    # the lecture's numbers: o is 1/sqrt(2), so 1 - o**2 is one half
    assert math.isclose(o.data, math.sqrt(0.5), rel_tol=1e-12)
    assert math.isclose(inputs[0].grad, -1.5, rel_tol=1e-12)


def test_backward_by_hand_in_a_recursive_topo_order():
    inputs, (*_, o) = lecture_neuron()
    o.grad = 1.0
    topo = build_topo(o)
    assert topo[-1] is o and len(topo) == 10
    for node in reversed(topo):
        node._backward()
    expected = _expected_neuron_grads(inputs)
    for v in inputs:
        assert math.isclose(v.grad, expected[v.label], rel_tol=1e-12, abs_tol=1e-15), v.label


def test_tanh_written_out_with_exp_gives_the_same_gradients():
    inputs, (*_, n, o) = lecture_neuron()
    e = (2 * n).exp()
    o2 = (e - 1) / (e + 1)
    o2.backward()
    assert math.isclose(o2.data, o.data, rel_tol=1e-12)
    expected = _expected_neuron_grads(inputs)
    for v in inputs:
        assert math.isclose(v.grad, expected[v.label], rel_tol=1e-9, abs_tol=1e-12), v.label


def test_lecture_draw_dot_walks_prev_and_op():
    *_, L = lecture_expression()
    L.backward()
    nodes, edges = trace(L)
    assert len(nodes) == 7 and len(edges) == 6
    assert {n.label for n in nodes} == {"a", "b", "c", "d", "e", "f", "L"}
    assert sorted(n._op for n in nodes if n._op) == ["*", "*", "+"]
    src = draw_dot(L).source
    assert "{ a | data 2.0000 | grad 6.0000 }" in src
    assert "{ L | data -8.0000 | grad 1.0000 }" in src
    assert src.count("->") == 6 + 3  # operand edges plus one op-to-value edge per op node


def test_a_plus_a_draws_one_edge_per_use_in_prev():
    a = Value(3.0, label="a")
    b = a + a
    assert len(b._prev) == 2
    b.backward()
    assert a.grad == 2.0  # micrograd's set of children would give 1.0


def _micrograd_readme(a, b, relu):
    # the README's example, written so it runs on Values and on sympy symbols alike
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + relu(b + a)
    d += 3 * d + relu(b - a)
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def test_micrograd_readme_example():
    a, b = Value(-4.0), Value(2.0)
    g = _micrograd_readme(a, b, lambda v: v.relu())
    g.backward()
    x, y = sp.symbols("x y", real=True)
    G = _micrograd_readme(x, y, lambda v: sp.Max(v, 0))
    point = {x: -4, y: 2}
    assert math.isclose(g.data, float(G.subs(point)), rel_tol=1e-12)
    assert math.isclose(a.grad, float(sp.diff(G, x).subs(point)), rel_tol=1e-12)
    assert math.isclose(b.grad, float(sp.diff(G, y).subs(point)), rel_tol=1e-12)
    # the numbers the README prints
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_micrograd_style_training_step():
    # a neuron written the way micrograd's nn.py and demo write it
    w, bias = [Value(0.5), Value(-0.25)], Value(0.1)
    xs, ys = [[1.0, 2.0], [-1.0, 0.5]], [1, -1]
    scores = [sum((wi * xi for wi, xi in zip(w, x)), bias) for x in xs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    loss = sum(losses) * (1.0 / len(losses))
    assert isinstance(loss, Value)
    # scores: 0.1 and -0.525 -> hinge terms 0.9 and 0.475, both active
    assert math.isclose(loss.data, (0.9 + 0.475) / 2, rel_tol=1e-12)
    for p in (*w, bias):
        p.grad = 0
    loss.backward()
    # d loss / d w_j = mean over samples of -y_i x_ij; d loss / d bias = mean of -y_i
    assert math.isclose(w[0].grad, (-1.0 + -1.0) / 2, rel_tol=1e-12)
    assert math.isclose(w[1].grad, (-2.0 + 0.5) / 2, rel_tol=1e-12)
    assert math.isclose(bias.grad, (-1 + 1) / 2, abs_tol=1e-15)
    before = loss.data
    for p in (*w, bias):
        p.data -= 0.1 * p.grad
    scores = [sum((wi * xi for wi, xi in zip(w, x)), bias) for x in xs]
    after = sum((1 + -yi * si).relu() for yi, si in zip(ys, scores)) * 0.5
    assert after.data < before


def test_repr_reads_like_micrograd():
    assert repr(Value(2.0)).startswith("Value(data=2.0, grad=0")
    assert "label='a'" in repr(Value(1.0, label="a"))


@pytest.mark.parametrize(
    "op, data, expected",
    [("+", 5.0, (1.0, 1.0)), ("-", -1.0, (1.0, -1.0)), ("*", 6.0, (3.0, 2.0)), ("/", 2 / 3, (1 / 3, -2 / 9))],
)
def test_building_a_node_by_hand_with_children_and_op(op, data, expected):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    out = Value(data, (a, b), op, label="out")
    assert out._prev == (a, b) and out._op == op and out.label == "out"
    out.backward()
    assert math.isclose(a.grad, expected[0], rel_tol=1e-15)
    assert math.isclose(b.grad, expected[1], rel_tol=1e-15)


def test_building_a_unary_node_by_hand():
    x = Value(0.5, label="x")
    t = math.tanh(0.5)
    out = Value(t, (x,), "tanh")
    out.backward()
    assert out._op == "tanh" and math.isclose(x.grad, 1 - t * t, rel_tol=1e-15)


def test_a_node_with_an_unknown_op_builds_and_backward_asks_for_its_backward():
    # The lecture builds nodes with any op name, then assigns _backward (tests/test_custom_ops.py).
    a = Value(1.0)
    node = Value(1.0, (a,), "frobnicate")
    assert node._op == "frobnicate" and node._prev == (a,)
    with pytest.raises(ValueError, match="'frobnicate' node.*no _backward"):
        node.backward()
    with pytest.raises(ValueError, match="'\\+' node.*no _backward"):
        Value(1.0, (a,), "+").backward()  # one operand: not the table's '+'
    with pytest.raises(TypeError, match="_children"):
        Value(1.0, (a, 2.0), "+")
    with pytest.raises(ValueError, match="1 or 2 operands"):
        Value(1.0, (a, a, a), "sum3")


def test_lecture_style_numerical_check_of_dL_da():
    # the lecture's "nudge a by h and watch L" check, against backward()
    h = 0.0001

    def L_of(da=0.0):
        a = Value(2.0 + da, label="a")
        b, c, f = Value(-3.0), Value(10.0), Value(-2.0)
        return (a * b + c) * f, a

    L1, a = L_of()
    L2, _ = L_of(h)
    L1.backward()
    assert math.isclose((L2.data - L1.data) / h, a.grad, rel_tol=1e-6)


def test_lecture_power_node_built_by_hand_carries_its_exponent():
    # The lecture's __pow__ builds Value(x ** k, (x,), f'**{k}'); the exponent lives in the op name.
    x = Value(3.0)
    node = Value(x.data ** 2, (x,), "**2")
    node.backward()
    assert x.grad == 6.0  # d/dx x^2 = 2x
    assert node._op == "**2"
    cube = Value(-8.0, (Value(-2.0),), "**3.0")
    cube.backward()
    assert cube._prev[0].grad == 12.0  # 3x^2 at -2
    with pytest.raises(ValueError, match="'\\*\\*x' node.*no _backward"):
        Value(1.0, (x,), "**x").backward()  # not a number: a name of its own, like 'cube'


def test_micrograd_relu_op_name_builds_a_relu_node():
    x = Value(-2.0)
    node = Value(0.0, (x,), "ReLU")  # micrograd's __repr__/_op spelling
    node.grad = 1.0
    node._backward()
    assert node._op == "relu" and x.grad == 0.0
