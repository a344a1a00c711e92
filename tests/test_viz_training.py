"""viz.write_training: training over time, from nn.fit(record_every=...)'s snapshots."""

import importlib
import json
import re

import numpy as np
import pytest
from test_viz_stepper import open_page

from chainrule import nn, viz
from chainrule.autograd import CompileError, Value, topo_order

training_module = importlib.import_module("chainrule.viz.training")  # viz.training is the function


def trained(every=5, epochs=30):
    X, y = nn.data.moons(60, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=nn.SGD(model.parameters(), lr=0.5),
                     epochs=epochs, progress=False, record_every=every)
    return model, history, X, y


def page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="crt-data">(.*?)</script>',
                                html, re.S).group(1))


@pytest.mark.parametrize("compiled", [None, False])
def test_the_recorder_callback_keeps_what_fit_records(compiled):
    """viz.TrainingRecorder (a callback) and fit(record_every=...) keep the same snapshots,
    each holding the weights and gradients a later callback sees at that step."""
    X, y = nn.data.moons(20, noise=0.1, seed=1)

    def model():
        return nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", seed=0)

    rec, seen, m = viz.TrainingRecorder(every=2), [], model()

    def check(info):  # runs after the recorder, at the same step: the same numbers
        seen.append(([p.data for p in info.model.parameters()], [p.grad for p in info.model.parameters()]))

    nn.fit(m, X, y, loss="binary_cross_entropy", optimizer=nn.SGD(m.parameters(), lr=0.1),
           epochs=5, progress=False, callbacks=[rec, check], compiled=compiled)
    m2 = model()
    history = nn.fit(m2, X, y, loss="binary_cross_entropy", optimizer=nn.SGD(m2.parameters(), lr=0.1),
                     epochs=5, progress=False, record_every=2, compiled=compiled)
    assert len(rec.loss) == 5 and [s.step for s in rec.snapshots] == [0, 2, 4]
    assert [s.step for s in history.snapshots] == [0, 2, 4]
    assert rec.loss == pytest.approx(history.loss, rel=1e-12, abs=1e-12)
    for snap, mine in zip(rec.snapshots, history.snapshots):
        data, grad = seen[snap.step]
        assert snap.data.tolist() == data and snap.grad.tolist() == grad
        # another run: compile may pick the other backend (timed), which rounds differently
        assert mine.data.tolist() == pytest.approx(data, rel=1e-12, abs=1e-12)
        assert mine.grad.tolist() == pytest.approx(grad, rel=1e-12, abs=1e-12)
    # the gradient of the first step is the batch loss's, computed here from scratch
    fresh = model()
    preds = [fresh([Value(float(a)), Value(float(b))]) for a, b in X]
    loss = nn.binary_cross_entropy(preds, y)
    loss.backward()
    assert rec.snapshots[0].grad == pytest.approx([p.grad for p in fresh.parameters()], rel=1e-9, abs=1e-12)


def test_the_page_ends_at_the_trained_weights_and_leaves_the_model_alone(tmp_path):
    model, history, X, y = trained()
    before = [p.data for p in model.parameters()]
    path = viz.write_training(tmp_path / "t.html", model, history, X=X, y=y)
    assert [p.data for p in model.parameters()] == before
    data = page_data(path.read_text(encoding="utf-8"))
    assert len(data["frames"]) == len(history.snapshots) == 6 + 1  # every 5th of 30 steps, and the last
    last = data["frames"][-1]["edges"]
    w = model.layers[0].neurons[2].w[1]
    assert last["L0n2w1"][2] == f"w {float(f'{w.data:.3g}'):.3g}"
    assert len(data["plane"]["values"]) == len(data["frames"]) and len(data["plane"]["values"][0]) == 24 * 24


@pytest.mark.parametrize("make", [
    lambda: nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0),
    lambda: nn.MLP(2, [16, 16, 1], seed=0),  # micrograd's moons network: relu, relu, linear
    lambda: nn.MLP(2, [5, 2], activation="softplus", seed=3),  # two outputs: the plane shows the first
])
def test_the_compiled_plane_is_the_models_own_forward(make):
    """The grid evaluated by the compiled replay equals model(x).data on the engine, per snapshot."""
    X, y = nn.data.moons(40, noise=0.1, seed=2)
    model = make()
    targets = y if model.nout == 1 else [[t, 1 - t] for t in y]
    history = nn.fit(model, X, targets, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.3),
                     epochs=9, progress=False, record_every=4)
    frames = history.snapshots  # steps 0, 4, 8
    cells = np.random.RandomState(7).uniform(-2.5, 2.5, (training_module.GRID ** 2, 2))
    grids = training_module._compiled_grid(model, cells, frames)
    assert len(grids) == len(frames) == 3
    for f, grid in zip(frames, grids):
        assert grid.shape == (len(cells),)
        for p, d in zip(model.parameters(), f.data.tolist()):
            p.data = d
        for k in (0, 23, 24, 300, len(cells) - 1):
            out = model([float(cells[k, 0]), float(cells[k, 1])])
            expected = (out if isinstance(out, Value) else out[0]).data
            assert abs(grid[k] - expected) <= 1e-12 * max(1.0, abs(expected)), (f.step, k)


def test_the_page_is_the_one_the_engine_gives(monkeypatch):
    """The page is the same, byte for byte, as when the engine evaluates the plane cell by cell
    (the path for models the compiler cannot record)."""
    model, history, X, y = trained(every=10, epochs=20)
    compiled, ran = training_module._compiled_grid, []

    def spy(*args):
        out = compiled(*args)
        ran.append(True)  # only once it has returned: a refusal would fall back to the engine
        return out

    monkeypatch.setattr(training_module, "_compiled_grid", spy)
    fast = viz.training_html(model, history, X=X, y=y)
    assert ran  # the compiled replay gave these values, not the fallback

    def refuse(*args):
        raise CompileError("not recordable (test)")

    monkeypatch.setattr(training_module, "_compiled_grid", refuse)
    slow = viz.training_html(model, history, X=X, y=y)
    assert page_data(fast)["plane"]["values"] and fast == slow


def test_stepping_through_training_in_a_real_browser(browser, tmp_path):  # noqa: F811
    model, history, X, y = trained()
    path = viz.write_training(tmp_path / "t.html", model, history, X=X, y=y)
    page, requests, errors = open_page(browser, path, 1400, 900)

    def label() -> str:
        return page.eval_on_selector('[data-cr="L0n2w1l"]', "g => g.querySelector('text').textContent")

    def cursor() -> float:
        return float(page.eval_on_selector(".crt-cursor", "c => c.getAttribute('x1')"))

    data = page_data(path.read_text(encoding="utf-8"))
    assert label() == data["frames"][0]["edges"]["L0n2w1"][2]
    x0 = cursor()
    page.keyboard.press("End")  # no focus yet: nothing happens
    assert page.eval_on_selector(".chainrule-training", "b => b.dataset.frame") == "0"
    page.click(".crt-next")
    page.keyboard.press("End")
    assert label() == data["frames"][-1]["edges"]["L0n2w1"][2]
    assert cursor() > x0
    last = history.snapshots[-1]  # the step and epoch as History counts them, from 0, like the curve
    assert page.text_content(".crt-status").startswith(f"step {last.step} (epoch {last.epoch}), loss")
    # at a full-HD width the whole network is in view: its box does not cut the output layer off
    page.set_viewport_size({"width": 1920, "height": 1080})
    assert page.eval_on_selector(".crt-network", "n => n.querySelector('svg').getBoundingClientRect().right"
                                 " <= n.getBoundingClientRect().right")
    assert errors == [] and requests == [path.as_uri()]
    page.close()


def test_a_training_page_and_a_stepper_share_a_document(browser, tmp_path):  # noqa: F811
    model, history, X, y = trained()
    a = Value(3.0, label="a")
    b = a * a + a
    path = tmp_path / "both.html"
    path.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    + viz.training_html(model, history, full_page=False)
                    + viz.stepper_html(b, full_page=False) + "</body></html>", encoding="utf-8")
    page, requests, errors = open_page(browser, path, 1400, 900)

    def where() -> list[str]:
        return [page.eval_on_selector(".chainrule-training", "b => b.dataset.frame"),
                page.eval_on_selector(".chainrule-stepper", "b => b.dataset.step")]

    assert where() == ["0", "0"]
    page.click(".crt-next")
    page.keyboard.press("ArrowRight")
    assert where() == ["2", "0"]
    page.click(".crs-next")
    page.keyboard.press("End")
    assert where() == ["2", str(len(topo_order(b)) - 1)]
    assert page.text_content(".crt-counter") == f"snapshot 3 / {len(history.snapshots)}"
    assert errors == [] and requests == [path.as_uri()]
    page.close()


def test_bad_arguments_are_named():
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(TypeError, match="record_every"):
        viz.training_html(model, [])
    with pytest.raises(ValueError, match="holds no snapshots; pass record_every=N to nn.fit"):
        viz.training_html(model, nn.History())
    with pytest.raises(ValueError, match="holds no snapshots; pass it to nn.fit"):
        viz.training_html(model, viz.TrainingRecorder())
    with pytest.raises(ValueError, match="TrainingRecorder: every"):
        viz.TrainingRecorder(every=0)
    _, history, _, _ = trained(epochs=2)
    with pytest.raises(ValueError, match="pass the model that was trained"):
        viz.training_html(nn.MLP(2, [3, 1], seed=0), history)
