"""fit and predict: the loop does what a hand-written loop does, batching, callbacks, the
progress bar, accuracy, no graph at prediction time, and argument errors."""

import numpy as np
import pytest

from chainrule import autograd, nn
from chainrule.autograd import Value


def manual_losses(X, y, steps, lr):
    """The training loop written out: full batch, mse, plain SGD."""
    model = nn.MLP(2, [4, 1], activation="tanh", seed=4)
    losses = []
    for _ in range(steps):
        preds = [model(list(row)) for row in X]
        loss = sum(((p - t) ** 2 for p, t in zip(preds, y)), Value(0.0)) / len(y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses, model.state_dict()


def test_full_batch_fit_equals_the_hand_written_loop():
    X, y = nn.data.moons(20, seed=1)
    expected, state = manual_losses(X, y, 15, 0.05)
    model = nn.MLP(2, [4, 1], activation="tanh", seed=4)
    history = nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.05),
                     epochs=15, progress=False)
    np.testing.assert_allclose(history.loss, expected, rtol=1e-12)
    np.testing.assert_allclose(list(model.state_dict().values()), list(state.values()), rtol=1e-12)
    assert len(history) == 15 and history.lr == [0.05] * 15


def test_fit_learns_moons_with_hinge_and_reports_accuracy():
    X, y = nn.data.moons(60, noise=0.1, seed=0)
    y = 2 * y - 1
    model = nn.MLP(2, [8, 8, 1], seed=2)
    opt = nn.SGD(model.parameters(), lr=lambda k: 0.5 - 0.4 * k / 80)
    history = nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=80, l2=1e-4, progress=False)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert len(history.accuracy) == 80 and history.accuracy[-1] >= 0.9
    assert history.lr[0] == 0.5 and history.lr[-1] == pytest.approx(0.5 - 0.4 * 79 / 80)
    scores = nn.predict(model, X)
    assert np.mean((scores > 0) == (y > 0)) >= 0.9


def test_minibatches_are_seeded_and_count_steps_per_epoch():
    X, y = nn.data.blobs(30, centers=3, std=0.5, seed=1)

    def run(seed):
        model = nn.MLP(2, [5, 3], seed=0)
        h = nn.fit(model, X, y, loss="softmax_cross_entropy", optimizer=nn.Adam(model.parameters(), lr=0.05),
                   epochs=4, batch_size=8, seed=seed, progress=False)
        return h, model

    h1, m1 = run(seed=7)
    h2, _ = run(seed=7)
    h3, _ = run(seed=8)
    assert len(h1) == 4 * 4  # ceil(30 / 8) batches per epoch
    assert h1.loss == h2.loss and h1.loss != h3.loss
    assert len(h1.accuracy) == 16
    assert nn.predict(m1, X).shape == (30, 3)


def test_callbacks_see_each_step_and_can_stop():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    seen = []

    def record(info):
        seen.append((info.step, info.epoch, info.loss, info.lr, info.model is model))

    history = nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
                     epochs=50, progress=False, callbacks=[record, lambda info: info.step == 9])
    assert history.stopped_early and len(history) == 10
    assert [s[0] for s in seen] == list(range(10)) and all(s[4] for s in seen)
    assert [s[2] for s in seen] == history.loss


def test_progress_bar_shows_loss_and_accuracy(capsys):
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    opt = nn.SGD(model.parameters(), lr=1.0)
    nn.fit(model, X, y, loss="sum_of_squares", optimizer=opt, epochs=5, desc="xor")
    err = capsys.readouterr().err
    assert "xor" in err and "5/5" in err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert 0 <= last.index("loss=") < last.index("acc=") and last.endswith("%]")
    nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0), epochs=5,
           progress=False)
    assert capsys.readouterr().err == ""


def test_accuracy_choice():
    X = np.array([[0.0], [1.0], [2.0]])
    model = nn.MLP(1, [1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.01)
    regression = nn.fit(model, X, [0.5, 2.0, 3.0], loss="mse", optimizer=opt, epochs=2, progress=False)
    assert regression.accuracy == []
    custom = nn.fit(model, X, [0.5, 2.0, 3.0], loss="mse", optimizer=opt, epochs=2, progress=False,
                    accuracy=lambda out, y: 0.25)
    assert custom.accuracy == [0.25, 0.25]
    none = nn.fit(model, X, [0.0, 1.0, 1.0], loss="mse", optimizer=opt, epochs=1, progress=False,
                  accuracy=None)
    assert none.accuracy == []


def test_custom_loss_callable():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    calls = []

    def loss(preds, targets):
        calls.append((len(preds), targets.tolist()))
        return nn.sum_of_squares(preds, targets)

    nn.fit(model, X, y, loss=loss, optimizer=nn.SGD(model.parameters(), lr=1.0), epochs=2, progress=False)
    assert calls == [(4, [0.0, 1.0, 1.0, 0.0])] * 2


def test_predict_runs_without_a_graph_and_matches_calls():
    model = nn.MLP(2, [3, 2], seed=1)
    X = np.array([[0.5, -0.5], [1.0, 2.0]])
    out = nn.predict(model, X)
    assert out.shape == (2, 2) and out.dtype == float
    np.testing.assert_allclose(out, [[v.data for v in model(list(r))] for r in X], rtol=0)
    modes, made = [], []

    class Probe:
        nin = 2

        def __call__(self, x):
            modes.append(autograd.is_grad_enabled())
            made.append(Value(x[0]) * x[1])
            return made[-1]

    probe_out = nn.predict(Probe(), X)
    assert modes == [False, False] and autograd.is_grad_enabled()
    assert all(v.is_leaf for v in made)  # no graph was recorded
    assert probe_out.tolist() == [-0.25, 2.0]
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(X=np.zeros((4, 2))), ValueError, r"X must have shape \(samples, 3\)"),
    (dict(X=np.array([[1, 2, np.nan]] * 4)), ValueError, "non-finite number in row 0"),
    (dict(X=[["a", "b", "c"]] * 4), TypeError, "X must hold real numbers"),
    (dict(y=[0, 1]), ValueError, r"one target per row of X \(4\)"),
    (dict(loss="l1"), ValueError, "unknown loss 'l1'"),
    (dict(loss=3), TypeError, "loss must be a name or a callable"),
    (dict(optimizer="sgd"), TypeError, "optimizer must be an nn optimizer"),
    (dict(epochs=0), ValueError, "epochs must be a positive int"),
    (dict(batch_size=5), ValueError, r"batch_size must be an int in 1..4 or None"),
    (dict(l2=-1.0), ValueError, "l2 must be a finite number >= 0"),
    (dict(accuracy="yes"), TypeError, "accuracy must be 'auto', None or a callable"),
    (dict(X=np.zeros((0, 3)), y=[]), ValueError, "X has no rows"),
    (dict(loss=lambda p, t: 1.0), TypeError, "the loss must return a Value, got float"),
    (dict(seed=-3), ValueError, "fit: seed must be in"),
])
def test_fit_argument_errors(kwargs, error, match):
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    args = dict(X=X, y=y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=1.0), epochs=1, progress=False)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        nn.fit(model, args.pop("X"), args.pop("y"), **args)


def test_a_non_finite_loss_stops_with_the_step():
    X = np.array([[1.0]])
    model = nn.MLP(1, [1], seed=0)
    opt = nn.SGD(model.parameters(), lr=1e200)
    with pytest.raises((FloatingPointError, OverflowError), match="step 1|overflow|inf"):
        nn.fit(model, X, [1e200], loss="mse", optimizer=opt, epochs=5, progress=False)


def test_predict_rejects_a_single_sample():
    with pytest.raises(ValueError, match=r"shape \(samples, 2\)"):
        nn.predict(nn.MLP(2, [1]), np.array([1.0, 2.0]))


def test_predict_names_a_model_that_returns_no_values():
    class Plain:
        nin = 1

        def __call__(self, x):
            return 2.0

    with pytest.raises(TypeError, match="must return a Value or a list of Values per sample, got 2.0"):
        nn.predict(Plain(), np.array([[1.0]]))


def test_package_docstring_example_runs():
    import doctest

    result = doctest.testmod(nn, verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_fit_zeroes_the_grads_of_optimizer_parameters_outside_the_model():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    scale = Value(1.0, label="scale")  # a learnable loss scale, trained with the model
    step_mse, scale_grads = [], []

    def scaled(preds, targets):
        mse = nn.mse(preds, targets)
        step_mse.append(mse.data)
        return scale * mse

    opt = nn.SGD(model.parameters() + [scale], lr=0.1)
    nn.fit(model, X, y, loss=scaled, optimizer=opt, epochs=4, progress=False,
           callbacks=[lambda info: scale_grads.append(scale.grad)])
    # d(scale * mse) / d(scale) is this step's mse alone; accumulated grads would be running sums.
    assert scale_grads == pytest.approx(step_mse, rel=1e-12)
    assert len(set(step_mse)) == 4


def test_fit_refuses_an_optimizer_over_another_models_parameters():
    X, y = nn.data.tutorial()
    model, other = nn.tutorial_network(seed=1), nn.tutorial_network(seed=2)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"none of the SGD optimizer's 16 parameters belong to the model "
                                         r"MLP\(3 -> 4 sigmoid"):
        nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(other.parameters(), lr=1.0), epochs=1,
               progress=False)
    assert model.state_dict() == before


def test_fit_zeroes_a_plain_models_parameters_without_calling_zero_grad():
    class Plain:  # parameters() and __call__ only: no nin, no zero_grad
        def __init__(self):
            self.w = Value(0.5)

        def parameters(self):
            return [self.w]

        def __call__(self, x):
            return self.w * x[0]

    model, grads = Plain(), []
    X, y = np.array([[1.0], [2.0]]), np.array([1.0, 2.0])
    nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=0.01), epochs=3,
           progress=False, callbacks=[lambda info: grads.append(model.w.grad)])
    w = 0.5
    for g in grads:  # d/dw sum (w x - t)^2 = sum 2 x (w x - t) at this step's w alone
        assert g == pytest.approx(sum(2 * x * (w * x - t) for x, t in zip([1.0, 2.0], [1.0, 2.0])))
        w -= 0.01 * g


def test_fit_names_a_model_whose_nin_is_not_an_int():
    model = nn.MLP(2, [1], seed=0)
    model.nin = "two"
    with pytest.raises(TypeError, match="fit: the model's nin must be a positive int"):
        nn.fit(model, np.zeros((2, 2)), [0.0, 1.0], loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.1),
               progress=False)


def test_fit_trains_a_subset_of_the_model():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    frozen = model.layers[0].state_dict()
    nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.layers[1].parameters(), lr=1.0), epochs=3,
           progress=False)
    assert model.layers[0].state_dict() == frozen
    assert model.layers[1].state_dict() != nn.tutorial_network().layers[1].state_dict()


def test_a_schedule_is_called_once_per_fit_step():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    calls = []

    def counting(k):
        calls.append(k)
        return 0.5 / len(calls)  # stateful: the rate depends on how often it was called

    history = nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=counting), epochs=5,
                     progress=False)
    assert calls == [0, 1, 2, 3, 4]
    assert history.lr == [0.5, 0.25, 0.5 / 3, 0.125, 0.1]


def test_step_returns_the_rate_it_used():
    p = Value(1.0)
    p.grad = 2.0
    opt = nn.SGD([p], lr=lambda k: 0.25 * (k + 1))
    assert opt.step() == 0.25 and opt.step() == 0.5
    assert p.data == 1.0 - 0.25 * 2.0 - 0.5 * 2.0


class Fixed:
    """A 1-input model whose outputs are set per input value, to score accuracy by hand."""

    nin = 1

    def __init__(self, outputs):
        self.outputs = outputs
        self.weight = Value(1.0)

    def parameters(self):
        return [self.weight]

    def zero_grad(self):
        self.weight.grad = 0.0

    def __call__(self, x):
        row = self.outputs[int(x[0])]
        return [self.weight * v for v in row] if isinstance(row, list) else self.weight * row


def test_auto_accuracy_for_one_hot_squared_loss_targets_counts_samples():
    # Three classes, four samples; the argmax is right for samples 0 and 2 only. Per element
    # (0.5 threshold) it would be 10 of 12 = 83%, not 2 of 4.
    outputs = {0: [0.9, 0.1, 0.0], 1: [0.2, 0.3, 0.1], 2: [0.0, 0.2, 0.7], 3: [0.4, 0.1, 0.3]}
    y = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0]])
    model = Fixed(outputs)
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    for loss in ("mse", "sum_of_squares"):
        history = nn.fit(model, X, y, loss=loss, optimizer=nn.SGD(model.parameters(), lr=1e-9), epochs=1,
                         progress=False)
        assert history.accuracy == [pytest.approx(0.5)]


def test_auto_accuracy_for_a_target_column_compares_sample_by_sample():
    model = Fixed({0: 0.9, 1: 0.2, 2: 0.3})
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([[1.0], [0.0], [1.0]])  # one column: the third sample is wrong (all pairs: 4 of 9)
    history = nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=1e-9), epochs=1,
                     progress=False)
    assert history.accuracy == [pytest.approx(2 / 3)]


def test_auto_accuracy_for_multi_label_targets_scores_each_label():
    model = Fixed({0: [0.9, 0.8], 1: [0.1, 0.7]})
    X = np.array([[0.0], [1.0]])
    y = np.array([[1, 1], [0, 0]])  # rows with two 1s or none are not one-hot: 3 of 4 labels right
    history = nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=1e-9), epochs=1,
                     progress=False)
    assert history.accuracy == [pytest.approx(0.75)]


@pytest.mark.parametrize("loss, batch_size", [("hinge", None), ("mse", 7), ("binary_cross_entropy", 5),
                                              ("sum_of_squares", None)])
def test_compiled_fit_follows_the_engine(loss, batch_size):
    """The default (compiled) run and compiled=False give the same losses and weights."""
    X, y = nn.data.moons(24, noise=0.2, seed=3)
    if loss == "hinge":
        y = 2 * y - 1
    out_act = "sigmoid" if loss == "binary_cross_entropy" else "linear"

    def run(compiled):
        model = nn.MLP(2, [5, 4, 1], activation="tanh", output_activation=out_act, seed=9)
        history = nn.fit(model, X, y, loss=loss, optimizer=nn.Adam(model.parameters(), lr=0.05), epochs=6,
                         batch_size=batch_size, l2=1e-3, progress=False, compiled=compiled)
        return history, [p.data for p in model.parameters()]

    fast, fast_weights = run(None)
    slow, slow_weights = run(False)
    assert fast.compiled and not slow.compiled and slow.not_compiled_because == "compiled=False"
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-12)
    np.testing.assert_allclose(fast_weights, slow_weights, rtol=1e-9)
    assert fast.accuracy == slow.accuracy and fast.lr == slow.lr


def test_fit_runs_uncompiled_where_the_loss_cannot_be_compiled():
    X, y = nn.data.blobs(12, centers=3, seed=1)
    model = nn.MLP(2, [3], seed=0)
    history = nn.fit(model, X, y, loss="softmax_cross_entropy", optimizer=nn.SGD(model.parameters(), lr=0.1),
                     epochs=2, progress=False, compiled=True)
    assert not history.compiled and "class index" in history.not_compiled_because
    assert len(history) == 2
    default = nn.fit(model, X, y, loss="softmax_cross_entropy", optimizer=nn.SGD(model.parameters(), lr=0.1),
                     epochs=1, progress=False)
    assert not default.compiled


def test_a_callable_loss_is_compiled_only_when_asked():
    X, y = nn.data.tutorial()

    def loss(preds, targets):
        return nn.mse(preds, targets) * 2

    model = nn.tutorial_network()
    default = nn.fit(model, X, y, loss=loss, optimizer=nn.SGD(model.parameters(), lr=1.0), epochs=3,
                     progress=False)
    asked = nn.fit(model, X, y, loss=loss, optimizer=nn.SGD(model.parameters(), lr=1.0), epochs=3,
                   progress=False, compiled=True)
    assert not default.compiled and asked.compiled
    with pytest.raises(TypeError, match="compiled must be True, False or None"):
        nn.fit(model, X, y, loss=loss, optimizer=nn.SGD(model.parameters(), lr=1.0), compiled="yes")


def _mse_at(model, weights, X, y):
    """The batch's mean squared error with the model's parameters set to ``weights`` (floats only)."""
    params = model.parameters()
    keep = [p.data for p in params]
    for p, w in zip(params, weights):
        p.data = float(w)
    try:
        return float(np.mean((nn.predict(model, X) - y) ** 2))
    finally:
        for p, w in zip(params, keep):
            p.data = w


@pytest.mark.parametrize("compiled", [None, False])
def test_record_every_keeps_every_nth_step_and_the_last(compiled):
    """Each snapshot: the step's loss, the gradient it used (checked by central differences at
    the weights before the step) and the weights after the update (SGD: before - lr * grad)."""
    X, y = nn.data.moons(16, noise=0.2, seed=2)
    model = nn.MLP(2, [3, 1], activation="tanh", seed=5)
    start = np.array([p.data for p in model.parameters()])
    history = nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.3), epochs=11,
                     progress=False, record_every=3, compiled=compiled)
    assert history.compiled == (compiled is None)
    assert [s.step for s in history.snapshots] == [0, 3, 6, 9, 10]
    assert [s.epoch for s in history.snapshots] == [0, 3, 6, 9, 10]  # full batch: one step per epoch
    assert [s.loss for s in history.snapshots] == [history.loss[k] for k in (0, 3, 6, 9, 10)]
    np.testing.assert_array_equal(history.snapshots[-1].data, [p.data for p in model.parameters()])
    first = history.snapshots[0]
    h = 1e-6
    numeric = []
    for j in range(len(start)):
        up, down = start.copy(), start.copy()
        up[j] += h
        down[j] -= h
        numeric.append((_mse_at(model, up, X, y) - _mse_at(model, down, X, y)) / (2 * h))
    np.testing.assert_allclose(first.grad, numeric, rtol=1e-6, atol=1e-9)
    assert first.loss == pytest.approx(_mse_at(model, start, X, y), rel=1e-12)
    np.testing.assert_allclose(first.data, start - 0.3 * first.grad, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError):
        first.data[0] = 1.0  # a snapshot is a copy that stays as it was


def test_compiled_and_uncompiled_fit_record_the_same_snapshots():
    X, y = nn.data.moons(20, noise=0.1, seed=4)

    def run(compiled):
        model = nn.MLP(2, [4, 4, 1], activation="tanh", output_activation="sigmoid", seed=3)
        opt = nn.Adam(model.parameters(), lr=0.05)
        return nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=opt, epochs=3, batch_size=7,
                      progress=False, record_every=2, compiled=compiled)

    fast, slow = run(None), run(False)
    assert fast.compiled and not slow.compiled
    assert [(s.step, s.epoch) for s in fast.snapshots] == [(0, 0), (2, 0), (4, 1), (6, 2), (8, 2)]
    assert [(s.step, s.epoch) for s in slow.snapshots] == [(s.step, s.epoch) for s in fast.snapshots]
    for a, b in zip(fast.snapshots, slow.snapshots):
        assert a.loss == pytest.approx(b.loss, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_recording_is_off_by_default_and_a_stopped_run_keeps_its_last_step():
    X, y = nn.data.tutorial()
    model = nn.tutorial_network(seed=1)
    plain = nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
                   epochs=4, progress=False)
    assert plain.snapshots == []
    stopped = nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
                     epochs=50, progress=False, record_every=5, callbacks=[lambda info: info.step == 7])
    assert stopped.stopped_early and [s.step for s in stopped.snapshots] == [0, 5, 7]
    np.testing.assert_array_equal(stopped.snapshots[-1].grad, [p.grad for p in model.parameters()])


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "10"])
def test_record_every_must_be_a_positive_int(bad):
    X, y = nn.data.tutorial()
    model = nn.tutorial_network()
    with pytest.raises(ValueError, match="fit: record_every must be a positive int"):
        nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=1.0), record_every=bad,
               progress=False)
