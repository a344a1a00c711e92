"""Optimizers: updates against the update rules written out by hand, schedules, and errors."""

import math

import pytest

from chainrule import nn
from chainrule.autograd import Value


def params_with_grads(data, grads):
    ps = [Value(d, label=f"p{i}") for i, d in enumerate(data)]
    for p, g in zip(ps, grads):
        p.grad = g
    return ps


def test_sgd_plain_step():
    ps = params_with_grads([1.0, -2.0], [0.5, -4.0])
    opt = nn.SGD(ps, lr=0.1)
    opt.step()
    assert [p.data for p in ps] == [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -4.0]
    assert opt.steps == 1


def test_sgd_momentum_and_weight_decay_follow_the_recurrence():
    p = Value(2.0)
    opt = nn.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    w, v = 2.0, 0.0
    for g in (1.0, -0.5, 0.25, 3.0):
        p.grad = g
        opt.step()
        v = 0.9 * v + (g + 0.01 * w)
        w = w - 0.1 * v
        assert p.data == pytest.approx(w, rel=1e-15)


def test_schedule_is_called_with_the_step_index():
    seen = []
    p = Value(0.0)

    def schedule(k):
        seen.append(k)
        return 1.0 - 0.9 * k / 100

    opt = nn.SGD([p], lr=schedule)
    for _ in range(3):
        p.grad = 1.0
        opt.step()
    assert seen == [0, 1, 2]
    assert p.data == pytest.approx(-(1.0 + 0.991 + 0.982), rel=1e-15)
    assert opt.current_lr() == pytest.approx(1.0 - 0.9 * 3 / 100)


def test_adam_matches_the_paper_update():
    p = Value(1.0)
    opt = nn.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    w, m, s = 1.0, 0.0, 0.0
    for t, g in enumerate([0.3, -1.2, 0.7, 2.0], start=1):
        p.grad = g
        opt.step()
        m = 0.8 * m + 0.2 * g
        s = 0.99 * s + 0.01 * g * g
        w -= 0.01 * (m / (1 - 0.8**t)) / (math.sqrt(s / (1 - 0.99**t)) + 1e-6)
        assert p.data == pytest.approx(w, rel=1e-14)


def test_adam_first_step_moves_by_about_lr_and_minimises_a_quadratic():
    x = Value(5.0)
    opt = nn.Adam([x], lr=0.1)
    for k in range(500):
        loss = (x - 3.0) ** 2
        x.grad = 0.0
        loss.backward()
        opt.step()
        if k == 0:
            assert x.data == pytest.approx(4.9, rel=1e-6)
    assert x.data == pytest.approx(3.0, abs=1e-3)


def test_zero_grad():
    ps = params_with_grads([1.0, 2.0], [3.0, 4.0])
    nn.SGD(ps, lr=1.0).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.SGD([], lr=0.1), ValueError, "no parameters"),
    (lambda: nn.SGD([1.0], lr=0.1), TypeError, "parameter 0 is float, not a Value"),
    (lambda: nn.SGD([Value(1.0) + 1], lr=0.1), ValueError, "output of a '\\+' op, not a leaf"),
    (lambda: nn.SGD([Value(1.0, label="w")] * 2, lr=0.1), ValueError, r"parameter 1 \(w\) is listed twice"),
    (lambda: nn.SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be in"),
    (lambda: nn.SGD([Value(1.0)], lr=0), ValueError, r"SGD: lr must be in \(0.0, inf\), got 0.0"),
    (lambda: nn.SGD([Value(1.0)], lr=float("inf")), ValueError, r"SGD: lr must be in \(0.0, inf\), got inf"),
    (lambda: nn.SGD([Value(1.0)], lr=float("nan")), ValueError, "SGD: lr must be in .*, got nan"),
    (lambda: nn.Adam([Value(1.0)], lr=float("inf")), ValueError, r"Adam: lr must be in \(0.0, inf\), got in"),
    (lambda: nn.Adam([Value(1.0)], lr=float("nan")), ValueError, "Adam: lr must be in .*, got nan"),
    (lambda: nn.Adam([Value(1.0)], eps=0), ValueError, r"Adam: eps must be in \(0.0, inf\), got 0.0"),
    (lambda: nn.Adam([Value(1.0)], eps=float("inf")), ValueError, "Adam: eps must be in"),
    (lambda: nn.Adam([Value(1.0)], betas=(-0.1, 0.9)), ValueError, r"betas\[0\] must be in \[0.0, 1.0\)"),
    (lambda: nn.Adam([Value(1.0)], betas=(float("nan"), 0.9)), ValueError, r"betas\[0\] must be in"),
    (lambda: nn.SGD([Value(1.0)], lr=0.1, weight_decay=float("inf")), ValueError, "weight_decay must be in"),
    (lambda: nn.SGD([Value(1.0)], lr="fast"), TypeError, "lr must be a number"),
    (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=1.0), ValueError, "momentum must be in"),
    (lambda: nn.Adam([Value(1.0)], betas=(0.9,)), TypeError, "betas must be a pair"),
    (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be in"),
])
def test_construction_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_schedule_value_raises_before_any_change():
    p = Value(1.0)
    p.grad = 1.0
    opt = nn.SGD([p], lr=lambda k: 0.1 if k == 0 else float("nan"))
    opt.step()
    with pytest.raises(ValueError, match="lr schedule at step 1"):
        opt.step()
    assert p.data == pytest.approx(0.9) and opt.steps == 1


def test_a_schedule_may_reach_zero_but_not_inf_and_a_reassigned_rate_is_checked():
    p = Value(1.0)
    p.grad = 1.0
    opt = nn.SGD([p], lr=lambda k: [0.0, float("inf")][k])
    assert opt.step() == 0.0 and p.data == 1.0
    with pytest.raises(ValueError, match=r"SGD lr schedule at step 1: the learning rate must be .*got inf"):
        opt.step()
    fixed = nn.SGD([p], lr=0.1)
    fixed.lr = float("inf")
    with pytest.raises(ValueError, match="SGD: lr must be in"):
        fixed.step()
    assert p.data == 1.0


def test_adam_with_a_zero_gradient_stays_put():
    p = Value(2.0)
    opt = nn.Adam([p], lr=0.1, eps=1e-12)
    p.grad = 0.0
    opt.step()
    assert p.data == 2.0


@pytest.mark.parametrize("opt_class", [nn.SGD, nn.Adam])
def test_non_finite_gradient_raises_and_changes_nothing(opt_class):
    ps = params_with_grads([1.0, 2.0], [0.5, float("inf")])
    opt = opt_class(ps, lr=0.1)
    with pytest.raises(FloatingPointError, match="the gradient of p1 is inf"):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0] and opt.steps == 0
