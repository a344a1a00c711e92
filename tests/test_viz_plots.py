"""Training plots: files that are real PNG/SVG, and a decision boundary coloured as predict says."""

import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from chainrule.viz import plot_decision_boundary, plot_history
from chainrule.viz.plots import CLASS0_REGION, CLASS1_REGION, PALETTE, _tint, decision_figure

PNG = b"\x89PNG\r\n\x1a\n"


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255


def test_history_png_and_svg(tmp_path):
    loss = [1 / (k + 1) for k in range(50)]
    acc = [min(1.0, k / 40) for k in range(50)]
    png = plot_history(tmp_path / "h.png", loss, acc)
    assert png.read_bytes()[:8] == PNG
    svg = plot_history(tmp_path / "h.svg", loss, acc, title="moons")
    assert ET.parse(svg).getroot().tag.endswith("svg")
    # matplotlib draws text as paths and keeps each string in a comment beside it
    comments = re.findall(r"<!-- (.*?) -->", svg.read_text(encoding="utf-8"))
    assert {"moons: loss", "moons: accuracy", "step", "loss", "accuracy"} <= set(comments)
    log = plot_history(tmp_path / "log.svg", loss, log_loss=True)
    assert "moons: accuracy" not in log.read_text(encoding="utf-8")
    import matplotlib.image as mpimg
    one = mpimg.imread(png)
    two = mpimg.imread(plot_history(tmp_path / "h2.png", loss))
    assert one.shape != two.shape  # the accuracy panel widens the figure


def test_decision_boundary_colours_match_predict(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(40, 2))
    # keep the data away from the probe points so markers do not cover them
    X = X[np.abs(X[:, 1]) > 0.8]
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, 1, -1)
    predict = lambda P: P[:, 0] + 0.5 * P[:, 1]
    path = plot_decision_boundary(tmp_path / "b.png", predict, X, y)
    import matplotlib.image as mpimg
    image = mpimg.imread(path)[:, :, :3]
    fig, ax = decision_figure(predict, X, y)
    height = image.shape[0]
    assert image.shape[:2] == (int(fig.get_figheight() * fig.dpi), int(fig.get_figwidth() * fig.dpi))
    probes = np.array([[-1.5, 0.0], [1.5, 0.0], [-0.8, 0.1], [0.8, -0.1], [0.6, 0.0], [-0.6, 0.2]])
    for point, score in zip(probes, predict(probes)):
        px, py = ax.transData.transform(point)
        colour = image[int(round(height - py)), int(round(px))]
        want = CLASS1_REGION if score > 0 else CLASS0_REGION
        assert np.allclose(colour, rgb(want), atol=0.03), (point, score, colour)
    other = plot_decision_boundary(tmp_path / "c.png", lambda P: -predict(P), X, y)
    assert not np.array_equal(mpimg.imread(other), mpimg.imread(path))
    svg = plot_decision_boundary(tmp_path / "b.svg", predict, X, y, threshold=0.0)
    assert ET.parse(svg).getroot().tag.endswith("svg")


def test_multiclass_boundary_paints_each_class_its_colour(tmp_path):
    # three sectors by angle; the data sits on a ring, away from the probe points
    angle = np.linspace(0, 2 * np.pi, 30, endpoint=False)
    X = np.column_stack([2 * np.cos(angle), 2 * np.sin(angle)])

    def predict(P):
        return (np.floor(np.mod(np.arctan2(P[:, 1], P[:, 0]), 2 * np.pi) / (2 * np.pi / 3))).astype(int)

    y = predict(X)
    path = plot_decision_boundary(tmp_path / "m.png", predict, X, y, classes=3)
    import matplotlib.image as mpimg
    image = mpimg.imread(path)[:, :, :3]
    fig, ax = decision_figure(predict, X, y, classes=3)
    probes = np.array([[1.0, 0.5], [-0.9, 0.6], [-0.3, -1.0], [0.5, -1.1]])
    for point, k in zip(probes, predict(probes)):
        px, py = ax.transData.transform(point)
        colour = image[int(round(image.shape[0] - py)), int(round(px))]
        assert np.allclose(colour, rgb(_tint(PALETTE[k])), atol=0.03), (point, k, colour)
    with pytest.raises(ValueError, match="class indices 0..2"):
        plot_decision_boundary(tmp_path / "x.png", lambda P: P[:, 0], X, y, classes=3)
    with pytest.raises(ValueError, match="classes must be an int"):
        plot_decision_boundary(tmp_path / "x.png", predict, X, y, classes=1)


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        plot_history(tmp_path / "h.txt", [1.0])
    with pytest.raises(ValueError, match="loss must be a non-empty"):
        plot_history(tmp_path / "h.png", [])
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        plot_decision_boundary(tmp_path / "b.png", lambda P: P[:, 0], np.zeros((3, 3)), [0, 1, 0])
    with pytest.raises(ValueError, match="one score per point"):
        plot_decision_boundary(tmp_path / "b.png", lambda P: np.zeros(3), np.zeros((3, 2)), [0, 1, 0])


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(ImportError, match=r"pip install chainrule\[plot\]"):
        plot_history(tmp_path / "h.png", [1.0, 0.5])
    with pytest.raises(ImportError, match=r"pip install chainrule\[plot\]"):
        plot_decision_boundary(tmp_path / "b.png", lambda P: P[:, 0], np.zeros((2, 2)), [0, 1])
    assert not (tmp_path / "h.png").exists()


def test_with_a_trained_nn_model(tmp_path):
    from chainrule import nn

    X, y = nn.data.moons(n=30, noise=0.1, seed=0)
    y = 2 * y - 1  # hinge wants -1 / +1
    model = nn.MLP(2, [6, 1], activation="tanh", seed=0)
    history = nn.fit(model, X, y, loss="hinge", optimizer=nn.SGD(model.parameters(), lr=0.1),
                     epochs=5, progress=False)
    assert len(history.loss) == 5
    png = plot_history(tmp_path / "fit.png", history.loss, history.accuracy)
    assert png.read_bytes()[:8] == PNG
    predict = lambda P: nn.predict(model, P)
    fig, ax = decision_figure(predict, X, y, resolution=25)
    mesh = ax.collections[0].get_array().reshape(25, 25)
    from chainrule.viz.plots import decision_grid
    xx, yy, zz = decision_grid(predict, X, 25)
    # the painted classes are exactly where the model's score is above 0
    assert np.array_equal(mesh, (zz > 0).astype(float))
    assert np.allclose(zz[3, 7], predict(np.array([[xx[3, 7], yy[3, 7]]]))[0])
    with pytest.raises(ValueError, match="resolution"):
        decision_grid(predict, X, 1)


def test_importing_viz_does_not_import_matplotlib():
    import subprocess

    code = "import sys; from chainrule import viz; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_same_plot_same_bytes(tmp_path):
    # matplotlib writes the date into SVG and PDF files and random ids for SVG clip paths
    import matplotlib

    loss = [1 / (k + 1) for k in range(30)]
    X = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    predict = lambda P: P[:, 0] - P[:, 1]
    for suffix in (".svg", ".pdf", ".png"):
        runs = []
        for k in range(2):
            history = plot_history(tmp_path / f"h{k}{suffix}", loss, [0.5] * 30)
            boundary = plot_decision_boundary(tmp_path / f"b{k}{suffix}", predict, X, y, resolution=10)
            runs.append((history.read_bytes(), boundary.read_bytes()))
        assert runs[0] == runs[1], suffix
    text = (tmp_path / "h0.svg").read_text(encoding="utf-8")
    assert "clipPath" in text and "<dc:date>" not in text
    assert b"/CreationDate" not in (tmp_path / "h0.pdf").read_bytes()
    assert matplotlib.rcParams["svg.hashsalt"] is None  # the salt was not left set globally
