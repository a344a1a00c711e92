"""Training plots: loss and accuracy curves, and a 2-D classifier's decision boundary.

matplotlib is an optional extra (``pip install chainrule[plot]``); it is imported only when
a plot is drawn, with the Agg backend so no display is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib is optional: imported for real only when a plot is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

import numpy as np

from .checks import check_count, check_flag, check_number, check_path, check_text

__all__ = ["plot_history", "plot_decision_boundary", "decision_figure", "decision_grid", "require_matplotlib"]

FORMATS = (".png", ".svg", ".pdf")
CLASS0_REGION = "#F5D9A6"  # light orange
CLASS1_REGION = "#A9CCE8"  # light blue


def require_matplotlib() -> ModuleType:
    """``matplotlib.pyplot`` on the Agg backend, or an ImportError saying how to install it."""
    try:
        import matplotlib
        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "viz plots need matplotlib, an optional extra: pip install chainrule[plot] "
            f"(or pip install matplotlib); the import failed with: {err}"
        ) from err
    return plt


def _target(path: str | Path, who: str) -> Path:
    path = check_path(path, who)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"cannot tell the image format of {str(path)!r}: "
                         f"use a suffix of {', '.join(FORMATS)}")
    return path


# matplotlib stamps SVG and PDF files with the date and gives SVG clip paths random ids;
# without the date and with a fixed salt for the ids the same plot gives the same bytes.
_METADATA = {".svg": {"Date": None}, ".pdf": {"CreationDate": None}, ".png": {}}
_SALT = "chainrule"


def _save(fig: Figure, path: Path, dpi: float) -> None:
    """Write ``fig`` to ``path`` reproducibly, then close it."""
    import matplotlib
    import matplotlib.pyplot as plt

    try:
        with matplotlib.rc_context({"svg.hashsalt": _SALT}):  # only for this save, not globally
            fig.savefig(path, dpi=dpi, metadata=_METADATA[path.suffix.lower()])
    finally:
        plt.close(fig)


def _series(name: str, values: Sequence[float] | None) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty flat list of numbers, got shape {arr.shape}")
    return arr


def plot_history(path: str | Path, loss: Sequence[float], accuracy: Sequence[float] | None = None,
                 *, title: str = "training", log_loss: bool = False) -> Path:
    """Loss per step (and accuracy, on its own axis, if given) written to a PNG/SVG/PDF file."""
    path = _target(path, "plot_history")
    check_text(title, "title", "plot_history")
    check_flag(log_loss, "log_loss", "plot_history")
    loss_arr = _series("loss", loss)
    # nn's History keeps an empty accuracy list when no accuracy applies
    acc_arr = _series("accuracy", accuracy) if accuracy is not None and len(accuracy) else None
    plt = require_matplotlib()
    ncols = 1 if acc_arr is None else 2
    fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 3.6), squeeze=False)
    ax = axes[0][0]
    ax.plot(np.arange(len(loss_arr)), loss_arr, color="#0072B2", lw=1.6)
    ax.set(xlabel="step", ylabel="loss", title=f"{title}: loss")
    if log_loss and np.all(loss_arr > 0):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if acc_arr is not None:
        ax = axes[0][1]
        ax.plot(np.arange(len(acc_arr)), acc_arr, color="#E69F00", lw=1.6)
        ax.set(xlabel="step", ylabel="accuracy", title=f"{title}: accuracy", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path, 100)
    return path


def decision_grid(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, resolution: int = 80,
                  margin: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grid over X's bounding box (plus ``margin``) and ``predict`` on it: xx, yy, zz.

    ``resolution`` points a side: the default 80 is 6400 predictions, a few seconds for a
    scalar-engine MLP; raise it for smoother pictures of fast predictors.
    """
    check_count(resolution, "resolution", "decision_grid", minimum=2, unit=" points a side")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    points = np.column_stack([xx.ravel(), yy.ravel()])
    zz = np.asarray(predict(points), dtype=float).reshape(-1)
    if zz.size != points.shape[0]:
        raise ValueError(f"predict(points) must return one score per point: {points.shape[0]} points "
                         f"in, {zz.size} values out")
    return xx, yy, zz.reshape(xx.shape)


# Okabe-Ito colours (colour-blind safe) for more than two classes; regions get a lighter tint.
PALETTE = ("#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = "sovD^<>p"


def _tint(colour: str, amount: float = 0.65) -> str:
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


def _multiclass(ax, xx: np.ndarray, yy: np.ndarray, zz: np.ndarray, X: np.ndarray, y: np.ndarray,
                classes: int) -> None:
    from matplotlib.colors import ListedColormap

    if not np.all((zz == np.round(zz)) & (zz >= 0) & (zz < classes)):
        raise ValueError(
            f"with classes={classes}, predict(points) must return class indices 0..{classes - 1}"
        )
    regions = ListedColormap([_tint(c) for c in PALETTE[:classes]])
    ax.pcolormesh(xx, yy, zz, cmap=regions, vmin=-0.5, vmax=classes - 0.5, shading="auto")
    for k in range(classes):
        mine = y == k
        ax.scatter(X[mine, 0], X[mine, 1], c=PALETTE[k], marker=MARKERS[k], edgecolors="k", s=22,
                   label=f"class {k}")


def decision_figure(predict: Callable[[np.ndarray], np.ndarray], X, y, *, resolution: int = 80,
                    threshold: float = 0.0, title: str = "decision boundary",
                    classes: int | None = None) -> tuple[Figure, Axes]:
    """The decision-boundary figure as matplotlib ``(fig, ax)``, for callers who adjust it.

    ``predict(points)`` takes an (n, 2) array and returns n scores; a point is class 1 where
    the score exceeds ``threshold`` (0 for a tanh or hinge model, 0.5 for a sigmoid). The
    region above the threshold is light blue, below it light orange, the boundary a dark line;
    ``y`` marks the data points the same way (label > 0 is class 1: labels 1 vs 0 or -1).

    With ``classes=K`` (up to 8), ``predict`` returns a class index 0..K-1 per point instead,
    each class gets its own colour-blind-safe colour, and ``y`` holds class indices.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {y.shape[0]} labels for {X.shape[0]} points")
    if not callable(predict):
        raise TypeError(f"predict must be callable, got {type(predict).__name__}")
    check_count(resolution, "resolution", "decision_figure", minimum=2, unit=" points a side")
    threshold = check_number(threshold, "threshold", "decision_figure")
    check_text(title, "title", "decision_figure")
    if classes is not None and (isinstance(classes, bool) or not isinstance(classes, int)
                                or not 2 <= classes <= len(PALETTE)):
        raise ValueError(f"classes must be an int from 2 to {len(PALETTE)}, got {classes!r}")
    xx, yy, zz = decision_grid(predict, X, resolution)
    plt = require_matplotlib()
    from matplotlib.colors import ListedColormap

    fig, ax = plt.subplots(figsize=(5, 4.5), dpi=100)
    if classes is not None:
        _multiclass(ax, xx, yy, zz, X, y, classes)
        ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), title=title)
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        return fig, ax
    regions = ListedColormap([CLASS0_REGION, CLASS1_REGION])
    ax.pcolormesh(xx, yy, (zz > threshold).astype(float), cmap=regions, vmin=0, vmax=1, shading="auto")
    if zz.min() < threshold < zz.max():
        ax.contour(xx, yy, zz, levels=[threshold], colors="#333333", linewidths=1.0)
    positive = y > 0
    dots = {"edgecolors": "k", "s": 22}
    ax.scatter(X[~positive, 0], X[~positive, 1], c="#E69F00", marker="s", label="class 0", **dots)
    ax.scatter(X[positive, 0], X[positive, 1], c="#0072B2", marker="o", label="class 1", **dots)
    ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), title=title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig, ax


def plot_decision_boundary(path: str | Path, predict: Callable[[np.ndarray], np.ndarray], X, y, *,
                           resolution: int = 80, threshold: float = 0.0,
                           title: str = "decision boundary", classes: int | None = None) -> Path:
    """The classes ``predict`` assigns over the plane of X, with the data on top, written to
    ``path`` (PNG/SVG/PDF); see :func:`decision_figure` for the colours."""
    path = _target(path, "plot_decision_boundary")
    fig, _ = decision_figure(predict, X, y, resolution=resolution, threshold=threshold, title=title,
                             classes=classes)
    _save(fig, path, fig.dpi)
    return path
