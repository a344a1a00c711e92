"""``write_training``: training over time on one offline page.

``nn.fit(..., record_every=N)`` keeps the loss of every step and, every N steps and at the
last, a snapshot of each parameter's value and of the gradient the step used
(``history.snapshots``, see ``nn.Snapshot``). :func:`write_training` then writes one
self-contained page that steps through the snapshots: the network view
(:func:`viz.draw_network`, laid out once; each frame recolours and relabels its edges with
that step's w and ∂loss/∂w), the loss curve with a cursor at the step, and, for 2-D inputs,
the model's output over the plane with the data on top. The page is one ``<div>`` like the
stepper's (no ids, keys only with focus), so it also shows inline in a notebook
(:func:`training`). :class:`TrainingRecorder` is the same recording as an ``nn.fit`` callback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainrule.autograd import CompileError, Value, compile
from chainrule.files import write_atomic
from chainrule.nn.train import History, Recorder, Snapshot

from . import page
from .checks import check_count, check_path, check_text
from .escape import html_text, script_json
from .network import draw_network, network_of
from .render import run_dot
from .style import contribution_colour, contribution_width, fmt, largest
from .trace import weight_id, weight_label_id

__all__ = ["TrainingRecorder", "write_training", "training_html", "training", "Training"]

GRID = 24  # cells per side of the decision picture


class TrainingRecorder(Recorder):
    """``nn.Recorder`` as an ``nn.fit`` callback, keeping at most ``max_snapshots`` periodic
    snapshots; ``nn.fit(record_every=every)`` records the same without a callback (and
    without copying the parameters at every step to keep the latest)."""

    def __init__(self, every: int = 1, max_snapshots: int = 200) -> None:
        super().__init__(every, max_snapshots, where="TrainingRecorder")


def _loss_curve(losses: list[float], width: int = 420, height: int = 160) -> str:
    """An SVG polyline of the losses (log scale when they span more than a factor of 20)."""
    ys = np.asarray(losses, dtype=float)
    log = bool(ys.size and ys.min() > 0 and ys.max() / ys.min() > 20)
    v = np.log10(ys) if log else ys
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    span = hi - lo or 1.0
    n = max(len(losses) - 1, 1)
    pts = " ".join(f"{30 + (width - 40) * k / n:.1f},{10 + (height - 30) * (1 - (y - lo) / span):.1f}"
                   for k, y in enumerate(v))
    axis = "log scale" if log else "linear scale"
    return (f'<svg class="crt-curve" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<polyline fill="none" stroke="#0072B2" stroke-width="1.5" points="{pts}"/>'
            f'<line class="crt-cursor" x1="30" x2="30" y1="5" y2="{height - 20}" stroke="#CC0066" '
            f'stroke-width="2"/>'
            f'<text x="30" y="{height - 4}" font-size="11">step 0</text>'
            f'<text x="{width - 10}" y="{height - 4}" font-size="11" text-anchor="end">step {n}</text>'
            f'<text x="{width - 10}" y="14" font-size="11" text-anchor="end">loss ({axis}): '
            f'{fmt(losses[0]) if losses else ""} to {fmt(losses[-1]) if losses else ""}</text>'
            f"</svg>")


def _first_outputs(outs: list[Any]) -> list[Value]:
    """Each sample's first output Value (a model returns a Value or a list of them)."""
    return [o if isinstance(o, Value) else o[0] for o in outs]


def _compiled_grid(model: Any, cells: np.ndarray, frames: list[Snapshot]) -> list[np.ndarray]:
    """The model's first output on every cell for every frame, as ``autograd.compile`` replays.

    One grid row (GRID cells) is recorded once as a program and replayed on each row and each
    frame's weights: recording all GRID x GRID cells would cost as much as evaluating them on
    Values, a row costs 1/GRID of it, and a replay is a few numpy statements. The numpy
    backend, not ``auto``, so that which code runs does not depend on a timing.
    """
    def row_outputs(row_cells):
        firsts = _first_outputs([model(list(c)) for c in row_cells])
        return sum(firsts[1:], firsts[0]), firsts

    program = compile(row_outputs, backend="numpy")
    rows = cells.reshape(-1, GRID, cells.shape[1])
    params = model.parameters()
    out = []
    for f in frames:
        for p, d in zip(params, f.data.tolist()):
            p.data = d
        out.append(np.concatenate([np.asarray(program(r).aux[0], dtype=float).reshape(-1) for r in rows]))
    return out


def _value_grid(model: Any, cells: np.ndarray, frames: list[Snapshot]) -> list[np.ndarray]:
    """The same as :func:`_compiled_grid` on the engine, cell by cell (for models it cannot record)."""
    from chainrule import nn

    params = model.parameters()
    out = []
    for f in frames:
        for p, d in zip(params, f.data.tolist()):
            p.data = d
        out.append(np.asarray(nn.predict(model, cells)).reshape(len(cells), -1)[:, 0])
    return out


def _plane(model: Any, X: np.ndarray, frames: list[Snapshot]) -> tuple[dict, list[list[float]]]:
    """The grid and, per frame, the model's output on every cell (weights set from the frame)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * 0.1 + 1e-9
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], GRID)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], GRID)
    cells = np.array([[x, y] for y in ys[::-1] for x in xs])
    params = model.parameters()
    keep = [p.data for p in params]
    try:
        try:
            grids = _compiled_grid(model, cells, frames)
        except (CompileError, TypeError, ValueError):  # not recordable: the engine decides (or raises)
            grids = _value_grid(model, cells, frames)
    finally:
        for p, d in zip(params, keep):  # the model leaves as it came
            p.data = d
    values = [[round(float(v), 4) for v in grid] for grid in grids]
    return {"x": [float(xs[0]), float(xs[-1])], "y": [float(ys[0]), float(ys[-1])]}, values


def _dot_colour(y: Any, k: int, mid: float) -> str:
    """Sample ``k``'s colour: blue above the middle of the targets, orange below."""
    return "#0072B2" if y is not None and float(np.ravel(y)[k]) > mid else "#E69F00"


def _recording(history: Any) -> tuple[list[float], list[Snapshot]]:
    """Every step's loss and the snapshots, from ``nn.fit(record_every=...)``'s History or a recorder."""
    if not isinstance(history, (History, Recorder)):
        raise TypeError(f"write_training(history): expected the History of nn.fit(..., record_every=N) "
                        f"(or a viz.TrainingRecorder passed to nn.fit(callbacks=[...])), "
                        f"got {type(history).__name__}")
    if not history.snapshots:
        how = ("pass record_every=N to nn.fit" if isinstance(history, History)
               else "pass it to nn.fit(callbacks=[recorder])")
        raise ValueError(f"write_training: the {type(history).__name__} holds no snapshots; {how}")
    return history.loss, history.snapshots


def training_html(model: Any, history: History | Recorder, *, X: Any = None, y: Any = None,
                  title: str | None = None, interval_ms: int = 400, full_page: bool = True) -> str:
    """The training page as a string (see :func:`write_training`)."""
    losses, frames = _recording(history)
    check_text(title, "title", "write_training", none=True)
    check_count(interval_ms, "interval_ms", "write_training", unit=" milliseconds")
    net = network_of(model)
    params = model.parameters()
    where = {id(p): k for k, p in enumerate(params)}
    svg = page.inline_svg(run_dot(draw_network(model).source, "svg", "neato").decode("utf-8"))
    weights = [(li, k, i, w) for li, layer in enumerate(net.layers)
               for k, neuron in enumerate(layer) for i, w in enumerate(net.weights[neuron])]
    edges = [(weight_id(li, k, i), where[id(w)]) for li, k, i, w in weights]
    out_frames = []
    if any(len(f.data) != len(params) for f in frames):
        raise ValueError(f"write_training: the snapshots hold {len(frames[0].data)} parameters, the model "
                         f"{len(params)}; pass the model that was trained")
    for f in frames:
        data, grad = f.data.tolist(), f.grad.tolist()
        big = largest(grad[j] for _, j in edges)
        out_frames.append({
            "step": f.step, "epoch": f.epoch, "loss": fmt(f.loss, 6),
            "edges": {e: [contribution_colour(grad[j]), contribution_width(grad[j], big),
                          f"w {fmt(data[j], 3)}", f"∂loss/∂w {fmt(grad[j], 3)}"]
                      for e, j in edges}})
    labels = {weight_id(li, k, i): weight_label_id(li, k, i) for li, k, i, _ in weights}
    data: dict[str, Any] = {"frames": out_frames, "interval": interval_ms, "steps": len(losses),
                            "labels": labels}
    plane = ""
    if X is not None:
        X = np.asarray(X, dtype=float)
        if X.ndim == 2 and X.shape[1] == 2:
            box, values = _plane(model, X, frames)
            data["plane"] = {"grid": GRID, "values": values,
                             "mid": float(np.mean([np.min(y), np.max(y)])) if y is not None else 0.5}
            span = (box["x"][1] - box["x"][0], box["y"][1] - box["y"][0])
            dots = "".join(
                f'<circle cx="{10 + 220 * (px - box["x"][0]) / span[0]:.1f}" '
                f'cy="{10 + 220 * (1 - (py - box["y"][0]) / span[1]):.1f}" r="3" '
                f'fill="{_dot_colour(y, k, data["plane"]["mid"])}" '
                f'stroke="#222" stroke-width="0.5"/>' for k, (px, py) in enumerate(X))
            plane = (f'<svg class="crt-plane" width="240" height="240" viewBox="0 0 240 240">'
                     f'<g class="crt-cells"></g>{dots}</svg>')
    heading = title if title is not None else f"training: {len(losses)} steps"
    parts = {"TITLE": html_text(heading), "CSS": page.asset("training.css"),
             "CONTROLS": page.controls("crt", "snapshot"), "NETWORK": svg,
             "CURVE": _loss_curve(losses), "PLANE": plane, "DATA": script_json(data),
             "JS": page.script("training.js")}
    fragment = page.fill(page.asset("training.html"), parts)
    return page.full_page(parts["TITLE"], fragment) if full_page else fragment


def write_training(path: str | Path, model: Any, history: History | Recorder, *, X: Any = None,
                   y: Any = None, title: str | None = None, interval_ms: int = 400) -> Path:
    """Write one offline page stepping through training (see the module docstring); returns the path.

    ``history`` is what ``nn.fit(model, ..., record_every=N)`` returned (or a
    :class:`TrainingRecorder` passed to ``nn.fit(callbacks=[...])``); ``X`` and ``y``
    (optional) add the model's output over the plane when the inputs are 2-D. The model's
    weights are left as they are.
    """
    path = check_path(path, "write_training")
    html = training_html(model, history, X=X, y=y, title=title, interval_ms=interval_ms)
    write_atomic(path, html.encode("utf-8"))
    return path


class Training:
    """The training page for a notebook: displays inline (``_repr_html_``)."""

    def __init__(self, model: Any, history: History | Recorder, **options) -> None:
        self._fragment = training_html(model, history, full_page=False, **options)
        self._model = model

    def _repr_html_(self) -> str:
        return self._fragment

    def __repr__(self) -> str:  # a notebook's text/plain: the same every run, unlike an address
        return f"<chainrule training page of {self._model!r}: shown inline, or viz.write_training(path, ...)>"


def training(model: Any, history: History | Recorder, **options) -> Training:
    """The training page inline in a notebook; options as for :func:`write_training`."""
    return Training(model, history, **options)
