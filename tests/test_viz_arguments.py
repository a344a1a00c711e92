"""Every public viz function names the argument it cannot use, with the right exception."""

from pathlib import Path

import numpy as np
import pytest
from test_viz_support import small_expression

from chainrule.autograd import Value
from chainrule.viz import (
    draw_dot,
    draw_graph,
    explain,
    plot_decision_boundary,
    plot_history,
    render,
    save_source,
    stepper_html,
    write_stepper,
)
from chainrule.viz.plots import decision_figure, decision_grid

X = np.array([[0.0, 0.0], [1.0, 1.0]])
Y = np.array([0, 1])
PREDICT = lambda P: P[:, 0] - P[:, 1]  # noqa: E731 - a one-line predictor


def root() -> Value:
    return small_expression()[0]


CASES = [
    # (call, exception, message fragment)
    (lambda: draw_graph(root(), grads="no"), TypeError,
     r"draw_graph\(grads='no'\): grads must be True, False or None, got str"),
    (lambda: draw_graph(root(), grads=1), TypeError, "grads must be True, False or None, got int"),
    (lambda: draw_graph(root(), edge_labels="yes"), TypeError, r"draw_graph\(edge_labels='yes'\)"),
    (lambda: draw_graph(root(), clusters=None), TypeError,
     r"draw_graph\(clusters=None\): clusters must be True or False"),
    (lambda: draw_graph(root(), collapse=0), ValueError, r"draw_graph\(collapse=0\)"),
    (lambda: draw_graph(root(), max_nodes=True), TypeError,
     r"draw_graph\(max_nodes=True\): max_nodes must be an int"),
    (lambda: draw_graph(root(), max_nodes="400"), TypeError,
     "max_nodes must be an int of at least 1 or None, got str"),
    (lambda: draw_graph(root(), max_nodes=0), ValueError, r"draw_graph\(max_nodes=0\)"),
    (lambda: draw_graph(root(), params="abc"), TypeError, "params must be an iterable of Values"),
    (lambda: draw_graph(root(), params=Value(1.0)), TypeError, "params must be an iterable of Values"),
    (lambda: draw_graph(root(), params=[Value(1.0), 2.0]), TypeError, r"params\[1\] is a float, not a Value"),
    (lambda: draw_graph(root(), format=None), TypeError, r"draw_graph\(format=None\): format must be a str"),
    (lambda: draw_graph(root(), rankdir=1), ValueError, "rankdir must be one of LR, TB, RL, BT"),
    (lambda: draw_dot(root(), format=3), TypeError, r"draw_dot\(format=3\): format must be a str"),
    (lambda: explain(root(), digits=-1), ValueError,
     r"explain\(digits=-1\): digits must be an int of at least 1"),
    (lambda: explain(root(), digits=0), ValueError, r"explain\(digits=0\)"),
    (lambda: explain(root(), digits=2.5), TypeError, r"explain\(digits=2.5\): .* got float"),
    (lambda: explain(root(), digits=True), TypeError, r"explain\(digits=True\)"),
    (lambda: explain("L"), TypeError, r"explain\(root\): root must be an autograd.Value, got str"),
    (lambda: stepper_html(root(), title=3), TypeError,
     r"write_stepper\(title=3\): title must be a str or None"),
    (lambda: stepper_html(root(), interval_ms=True), TypeError, r"write_stepper\(interval_ms=True\)"),
    (lambda: stepper_html(root(), interval_ms=0.5), TypeError,
     "interval_ms must be an int of at least 1 milliseconds"),
    (lambda: stepper_html(root(), interval_ms=-5), ValueError, r"write_stepper\(interval_ms=-5\)"),
    (lambda: stepper_html(root(), max_nodes="many"), TypeError, r"write_stepper\(max_nodes='many'\)"),
    (lambda: stepper_html(root(), max_nodes=0), ValueError, r"write_stepper\(max_nodes=0\)"),
    (lambda: write_stepper(root(), 42), TypeError,
     r"write_stepper\(path=42\): path must be a str or a pathlib.Path"),
    (lambda: render("digraph {}", "g.svg"), TypeError,
     r"render\(graph, path\): graph must be a graphviz graph"),
    (lambda: render(draw_dot(root()), None), TypeError, r"render\(path=None\)"),
    (lambda: save_source(root(), "g.dot"), TypeError, r"save_source\(graph, path\): .* got Value"),
    (lambda: plot_history(3, [1.0]), TypeError, r"plot_history\(path=3\)"),
    (lambda: plot_history("h.png", [1.0], title=None), TypeError,
     r"plot_history\(title=None\): title must be a str"),
    (lambda: plot_history("h.png", [1.0], log_loss="yes"), TypeError, r"plot_history\(log_loss='yes'\)"),
    (lambda: decision_figure(PREDICT, X, Y, threshold="0.5"), TypeError,
     r"decision_figure\(threshold='0.5'\): threshold must be a real number, got str"),
    (lambda: decision_figure(PREDICT, X, Y, title=b"t"), TypeError, r"decision_figure\(title=b't'\)"),
    (lambda: decision_figure(PREDICT, X, Y, resolution=True), TypeError,
     r"decision_figure\(resolution=True\)"),
    (lambda: decision_figure(PREDICT, X, Y, resolution=1), ValueError,
     "resolution must be an int of at least 2 points a side"),
    (lambda: decision_grid(PREDICT, X, 1), ValueError, r"decision_grid\(resolution=1\)"),
    (lambda: plot_decision_boundary(None, PREDICT, X, Y), TypeError, r"plot_decision_boundary\(path=None\)"),
]


@pytest.mark.parametrize("call, error, message", CASES, ids=[str(k) for k in range(len(CASES))])
def test_bad_argument_is_named(call, error, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing is written, but if it were it would land here
    with pytest.raises(error, match=message):
        call()
    assert list(Path(tmp_path).iterdir()) == []


def test_good_arguments_of_the_same_kinds_still_work(tmp_path):
    o = root()
    o.backward()
    assert draw_graph(o, grads=None, edge_labels=False, clusters=False, collapse=False, max_nodes=None,
                      params=[], format="svg").source
    assert draw_graph(o, grads=True, params=(v for v in [Value(1.0)])).source
    assert explain(o, digits=1).splitlines()[0] == "backward from o = 6: o.grad = 1 (seed)"
    assert write_stepper(o, str(tmp_path / "s.html"), title="t", interval_ms=1, max_nodes=None).exists()
    assert save_source(draw_dot(o), tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")
    fig, _ = decision_figure(PREDICT, X, Y, threshold=np.float64(0.5), resolution=np.int64(5))
    import matplotlib.pyplot as plt

    assert fig.axes
    plt.close(fig)
