"""Losses: values and gradients against hand-derived formulas, stability at the extremes,
and the shape and target checks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import nn
from chainrule.autograd import Value, topo_order


def leaves(xs):
    return [Value(float(x)) for x in xs]


def test_sum_of_squares_value_gradient_and_chain():
    p, t = leaves([0.2, 0.9, -1.0]), [0.0, 1.0, 1.0]
    loss = nn.sum_of_squares(p, t)
    assert loss.data == pytest.approx(0.04 + 0.01 + 4.0, rel=1e-12)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([2 * 0.2, 2 * -0.1, 2 * -2.0], rel=1e-12)
    # A chain of n - 1 additions starting from the first term: no 0 + ... node.
    nodes = topo_order(loss)
    assert sum(v._op == "+" for v in nodes) == 2
    assert not any(v._op == "+" and v._prev[0].is_constant for v in nodes)


def test_mse_is_the_mean():
    p, t = leaves([1.0, 2.0, 4.0, 0.0]), np.array([[0.0], [2.0], [1.0], [1.0]])  # (n, 1) targets
    loss = nn.mse(p, t)
    assert loss.data == pytest.approx((1 + 0 + 9 + 1) / 4, rel=1e-12)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([2 * 1 / 4, 0.0, 2 * 3 / 4, 2 * -1 / 4], rel=1e-12)


def test_losses_take_multi_output_rows():
    p = [leaves([1.0, 2.0]), leaves([3.0, 4.0])]
    assert nn.sum_of_squares(p, [[0.0, 0.0], [0.0, 0.0]]).data == 30.0
    assert nn.mse(p, np.zeros((2, 2))).data == 7.5


def test_bce_on_probabilities_matches_formula_and_gradient():
    probs, t = [0.1, 0.8, 0.5, 0.3], [0.0, 1.0, 1.0, 0.25]
    p = leaves(probs)
    loss = nn.binary_cross_entropy(p, t)
    expected = -np.mean([ti * math.log(pi) + (1 - ti) * math.log(1 - pi) for pi, ti in zip(probs, t)])
    assert loss.data == pytest.approx(expected, rel=1e-12)
    loss.backward()
    for v, pi, ti in zip(p, probs, t):
        assert v.grad == pytest.approx((-ti / pi + (1 - ti) / (1 - pi)) / 4, rel=1e-12)


def test_bce_from_logits_matches_formula_and_gradient():
    logits, t = [-2.0, 0.5, 3.0], [0.0, 1.0, 0.4]
    z = leaves(logits)
    loss = nn.binary_cross_entropy(z, t, from_logits=True)
    sig = [1 / (1 + math.exp(-v)) for v in logits]
    expected = -np.mean([ti * math.log(s) + (1 - ti) * math.log(1 - s) for s, ti in zip(sig, t)])
    assert loss.data == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert [v.grad for v in z] == pytest.approx([(s - ti) / 3 for s, ti in zip(sig, t)], rel=1e-12)


@pytest.mark.parametrize("z, target, expected", [
    (50.0, 0.0, 50.0),  # sigmoid(50) rounds to 1.0: log(1 - p) would be log(0)
    (-800.0, 1.0, 800.0),  # sigmoid(-800) underflows to 0.0
    (40.0, 1.0, math.exp(-40.0)),
    (-40.0, 0.0, math.exp(-40.0)),
])
def test_bce_is_stable_for_sigmoid_outputs_near_0_and_1(z, target, expected):
    zv = Value(z)
    loss = nn.binary_cross_entropy([zv.sigmoid()], [target])
    assert loss.data == pytest.approx(expected, rel=1e-9)
    loss.backward()
    sig = 1 / (1 + math.exp(-z)) if z > -700 else 0.0
    assert zv.grad == pytest.approx(sig - target, rel=1e-9, abs=1e-300)


def test_bce_drops_zero_weight_terms_and_names_infinite_ones():
    assert nn.binary_cross_entropy([Value(0.0), Value(1.0)], [0.0, 1.0]).data == 0.0
    with pytest.raises(ValueError, match="prediction 1 is 0.0 with target 1.0, an infinite loss"):
        nn.binary_cross_entropy([Value(0.5), Value(0.0)], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"prediction 0 is 1.5, not a probability in \[0, 1\]"):
        nn.binary_cross_entropy([Value(1.5)], [1.0])
    with pytest.raises(ValueError, match=r"target 0 is 2.0; targets must be in \[0, 1\]"):
        nn.binary_cross_entropy([Value(0.5)], [2.0])


def test_hinge_matches_micrograds_formula():
    scores, t = [0.5, -2.0, 3.0, -0.2], [1.0, -1.0, -1.0, 1.0]
    s = leaves(scores)
    loss = nn.hinge(s, t)
    margins = [1 - ti * si for si, ti in zip(scores, t)]
    assert loss.data == pytest.approx(sum(max(m, 0) for m in margins) / 4, rel=1e-12)
    loss.backward()
    assert [v.grad for v in s] == pytest.approx([-ti / 4 if m > 0 else 0.0 for m, ti in zip(margins, t)])


def test_hinge_needs_signed_labels():
    with pytest.raises(ValueError, match=r"target 1 is 0.0; hinge needs labels -1 or \+1"):
        nn.hinge(leaves([0.5, 0.5]), [1, 0])


def softmax_ce_reference(z, c):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + math.log(np.sum(np.exp(z - m))) - z[c]


def test_softmax_cross_entropy_value_and_gradient():
    rows, targets = [[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]], [1, 0]
    z = [leaves(r) for r in rows]
    loss = nn.softmax_cross_entropy(z, targets)
    expected = np.mean([softmax_ce_reference(r, c) for r, c in zip(rows, targets)])
    assert loss.data == pytest.approx(expected, rel=1e-12)
    loss.backward()
    for row, zr, c in zip(rows, z, targets):
        e = np.exp(np.array(row) - max(row))
        soft = e / e.sum()
        onehot = np.eye(3)[c]
        assert [v.grad for v in zr] == pytest.approx(((soft - onehot) / 2).tolist(), rel=1e-10, abs=1e-15)


def test_softmax_cross_entropy_is_stable_for_large_logits():
    z = leaves([1000.0, 0.0, -1000.0])
    loss = nn.softmax_cross_entropy(z, 1)  # one sample: a flat row and an int
    assert loss.data == pytest.approx(1000.0, rel=1e-12)
    loss.backward()
    assert [v.grad for v in z] == pytest.approx([1.0, -1.0, 0.0], abs=1e-300)
    assert nn.softmax_cross_entropy(leaves([1e5, 1e5]), 0).data == pytest.approx(math.log(2), rel=1e-12)


def test_softmax_cross_entropy_checks_targets():
    with pytest.raises(ValueError, match=r"target 0 is 3; expected a class index in 0..2"):
        nn.softmax_cross_entropy([leaves([1, 2, 3])], [3])
    with pytest.raises(ValueError, match="target 0 is 1.0"):
        nn.softmax_cross_entropy([leaves([1, 2, 3])], [1.0])
    with pytest.raises(ValueError, match="2 rows of logits but 1 targets"):
        nn.softmax_cross_entropy([leaves([1, 2]), leaves([1, 2])], [1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        nn.softmax_cross_entropy([[Value(1.0)]], [0])


def test_softmax_sums_to_one_without_overflow():
    z = leaves([800.0, 799.0, -5.0])
    probs = nn.softmax(z)
    e = np.exp(np.array([0.0, -1.0, -805.0]))
    assert [p.data for p in probs] == pytest.approx((e / e.sum()).tolist(), rel=1e-12)
    probs[0].backward()
    p0, p1 = probs[0].data, probs[1].data
    assert z[0].grad == pytest.approx(p0 * (1 - p0), rel=1e-9)
    assert z[1].grad == pytest.approx(-p0 * p1, rel=1e-9)


def test_l2_penalty():
    ps = leaves([1.0, -2.0, 0.5])
    pen = nn.l2_penalty(ps)
    assert pen.data == 5.25
    pen.backward()
    assert [p.grad for p in ps] == [2.0, -4.0, 1.0]
    with pytest.raises(ValueError, match="no parameters"):
        nn.l2_penalty([])


@pytest.mark.parametrize("loss", [nn.sum_of_squares, nn.mse, nn.binary_cross_entropy, nn.hinge])
def test_shape_mismatch_names_both_shapes(loss):
    with pytest.raises(ValueError, match=r"predictions have shape \(3,\) but targets have shape \(2,\)"):
        loss(leaves([0.5, 0.5, 0.5]), [1.0, 1.0])
    with pytest.raises(ValueError, match=r"shape \(2, 2\) but targets have shape \(2,\)"):
        loss([leaves([0.5, 0.5]), leaves([0.5, 0.5])], [1.0, 1.0])


@pytest.mark.parametrize("pred, target, error, match", [
    ([], [], ValueError, "predictions is empty"),
    ("ab", [1.0], TypeError, "predictions must be a Value"),
    ([Value(1.0), "x"], [1.0, 1.0], TypeError, "is not a number, a Value or a list"),
    ([Value(1.0)], [float("nan")], ValueError, "targets element 0 is nan"),
    ([Value(1.0)], [Value(1.0) * 2], TypeError, "targets must be numbers"),
    ([Value(1.0)], np.array(["a"]), TypeError, "targets must hold real numbers"),
    ([[Value(1.0)], [Value(1.0), Value(2.0)]], [[1.0], [1.0, 1.0]], ValueError, "different lengths"),
])
def test_bad_predictions_and_targets(pred, target, error, match):
    with pytest.raises(error, match=match):
        nn.mse(pred, target)


def test_a_single_value_is_one_prediction():
    v = Value(3.0)
    loss = nn.sum_of_squares(v, 1.0)
    assert loss.data == 4.0
    loss.backward()
    assert v.grad == 4.0


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(st.lists(st.floats(-300, 300), min_size=3, max_size=3), min_size=1, max_size=4),
    data=st.data(),
)
def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot(rows, data):
    targets = data.draw(st.lists(st.integers(0, 2), min_size=len(rows), max_size=len(rows)))
    z = [leaves(r) for r in rows]
    loss = nn.softmax_cross_entropy(z, targets)
    assert math.isfinite(loss.data)
    expected = np.mean([softmax_ce_reference(r, c) for r, c in zip(rows, targets)])
    assert loss.data == pytest.approx(expected, rel=1e-9, abs=1e-12)
    loss.backward()
    for r, zr, c in zip(rows, z, targets):
        e = np.exp(np.array(r) - max(r))
        want = (e / e.sum() - np.eye(3)[c]) / len(rows)
        np.testing.assert_allclose([v.grad for v in zr], want, rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(z=st.floats(-700, 700), t=st.floats(0, 1))
def test_bce_through_a_sigmoid_equals_the_logit_formula(z, t):
    zv = Value(z)
    loss = nn.binary_cross_entropy([zv.sigmoid()], [t])
    def softplus(u):
        return max(u, 0) + math.log1p(math.exp(-abs(u)))

    # -t log(sigmoid(z)) - (1 - t) log(1 - sigmoid(z)), each log written as a softplus
    assert loss.data == pytest.approx(t * softplus(-z) + (1 - t) * softplus(z), rel=1e-12, abs=1e-9)
    loss.backward()
    sig = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    assert zv.grad == pytest.approx(sig - t, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("loss, labels", [
    ("binary_cross_entropy", [[0, 1, 1, 0], [1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]]),
    ("hinge", [[-1, 1, 1, -1], [1, -1, 1, 1], [-1, -1, -1, -1], [1, 1, 1, 1]]),
])
def test_compiled_targets_take_one_graph_for_every_label_and_give_the_formula(loss, labels):
    """In a compiled step the targets are leaf Values: every label must build the same graph
    (so a new batch of labels replays instead of recording again), and the loss and d/dw
    must be the textbook formula, here worked in numpy. The probabilities are not a sigmoid
    node, so binary cross-entropy takes its two-log form; hinge's margins are both active
    and inactive. A label outside the loss's range is still refused on a replay."""
    from chainrule.autograd import compile

    w = Value(0.7, label="w")
    x = np.array([0.5, -1.0, 2.0, 0.3])
    scale, shift = (0.4, 0.5) if loss == "binary_cross_entropy" else (3.0, 0.0)

    def step(xs, ts):
        return nn.LOSSES[loss]([(w * xi).tanh() * scale + shift for xi in xs], ts)

    fast = compile(step)
    fast(x, np.array(labels[0], dtype=float))  # records
    h = np.tanh(0.7 * x)
    p, dp = scale * h + shift, scale * (1 - h ** 2) * x  # prediction and d(prediction)/dw
    for t in np.array(labels[1:], dtype=float):
        w.grad = 0.0
        out = fast(x, t)
        assert not out.recorded
        out.backward()
        if loss == "binary_cross_entropy":
            want = np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))
            slope = np.mean(-(t / p - (1 - t) / (1 - p)) * dp)
        else:
            margin = 1 - t * p
            assert (margin > 0).any() and (margin < 0).any()
            want = np.mean(np.maximum(margin, 0))
            slope = np.mean(np.where(margin > 0, -t * dp, 0.0))
        assert out.data == pytest.approx(want, rel=1e-12)
        assert w.grad == pytest.approx(slope, rel=1e-12)
    assert fast.stats["recorded"] == 1 and fast.stats["rerecorded"] == 0
    # The target checks are Value comparisons, re-checked on replay: a bad label is refused.
    bad = np.array(labels[0], dtype=float)
    bad[2] = 2.0 if loss == "binary_cross_entropy" else 0.0
    with pytest.raises(ValueError, match="target 2 is"):
        fast(x, bad)
