"""Training and inference: ``fit`` runs gradient steps with a progress bar, ``predict`` runs
the model without recording a graph."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from chainrule.autograd import CompileError, Value, no_grad
from chainrule.autograd import compile as compile_step

from .init import make_rng
from .losses import LOSSES, l2_penalty
from .optim import Optimizer

__all__ = ["fit", "predict", "History", "StepInfo", "Snapshot", "Recorder"]

Accuracy = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The model at one step of training: every parameter's value *after* the step's update
    and the gradient that update used (in ``model.parameters()`` order, as float arrays), with
    the step's loss (measured before the update), its step and its epoch (from 0)."""

    step: int
    epoch: int
    loss: float
    data: np.ndarray
    grad: np.ndarray

    @classmethod
    def take(cls, step: int, epoch: int, loss: float, params: Sequence[Value]) -> Snapshot:
        """A copy of ``params``' current data and grads: later steps do not change it."""
        data = np.fromiter((p.data for p in params), dtype=float, count=len(params))
        grad = np.fromiter((p.grad for p in params), dtype=float, count=len(params))
        data.flags.writeable = grad.flags.writeable = False
        return cls(step, epoch, float(loss), data, grad)


class Recorder:
    """Snapshots of training: steps 0, ``every``, 2 × ``every``, ... and always the last step.

    ``fit(record_every=...)`` uses one and leaves its snapshots in ``History.snapshots``.
    Passed to ``fit(callbacks=[...])`` it records the same way (``loss`` then holds every
    step's loss); as a callback it cannot know which step is the last, so it copies every
    step's parameters to keep the latest. ``max_snapshots`` (None: no limit) stops keeping
    the periodic ones once reached; the latest step is still kept.
    """

    def __init__(self, every: int, max_snapshots: int | None = None, where: str = "Recorder") -> None:
        if not _int_in(every, 1, math.inf):
            raise ValueError(f"{where}: every must be a positive int (steps between snapshots), "
                             f"got {every!r}")
        if max_snapshots is not None and not _int_in(max_snapshots, 1, math.inf):
            raise ValueError(f"{where}: max_snapshots must be a positive int or None, got {max_snapshots!r}")
        self.every = every
        self.max_snapshots = max_snapshots
        self.loss: list[float] = []
        self._kept: list[Snapshot] = []
        self._latest: Snapshot | None = None

    def due(self, step: int) -> bool:
        """Whether step ``step`` is one to keep."""
        return step % self.every == 0 and (self.max_snapshots is None or len(self._kept) < self.max_snapshots)

    def take(self, step: int, epoch: int, loss: float, params: Sequence[Value]) -> None:
        """Keep a snapshot of step ``step`` now."""
        self._kept.append(Snapshot.take(step, epoch, loss, params))
        self._latest = None

    def finish(self, step: int, epoch: int, loss: float, params: Sequence[Value]) -> None:
        """After the last step: keep it too, unless it was kept already."""
        if not self._kept or self._kept[-1].step != step:
            self.take(step, epoch, loss, params)

    def __call__(self, info: StepInfo) -> None:
        """The callback form (see the class docstring)."""
        self.loss.append(float(info.loss))
        params = info.model.parameters()
        if self.due(info.step):
            self.take(info.step, info.epoch, info.loss, params)
        else:
            self._latest = Snapshot.take(info.step, info.epoch, info.loss, params)

    @property
    def snapshots(self) -> list[Snapshot]:
        """The snapshots kept, in step order, ending with the latest step seen."""
        return self._kept + ([self._latest] if self._latest is not None else [])


@dataclass
class History:
    """What ``fit`` measured, one entry per step: the loss, the learning rate used, and the
    accuracy on the step's batch (empty when no accuracy applies). ``compiled`` says whether
    the steps ran as a compiled program; if not, ``not_compiled_because`` says why.
    ``snapshots``: with ``fit(record_every=N)``, the model every N steps and at the last
    (see :class:`Snapshot`); empty otherwise."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    stopped_early: bool = False
    compiled: bool = False
    not_compiled_because: str = ""
    snapshots: list[Snapshot] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)


@dataclass(frozen=True)
class StepInfo:
    """Passed to each callback after a step; the loss and accuracy are from before the update."""

    step: int
    epoch: int
    loss: float
    accuracy: float | None
    lr: float
    model: Any
    optimizer: Optimizer


def _binary(threshold: float) -> Accuracy:
    def accuracy(out: np.ndarray, y: np.ndarray) -> float:
        # A one-output model gives shape (n,); a target column is (n, 1). Compared unaligned they
        # would broadcast to (n, n) and average every output against every target.
        if out.size == y.size:
            out = out.reshape(y.shape)
        return float(np.mean((out > threshold) == (y > threshold)))

    return accuracy


def _argmax(out: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(out, axis=1) == y))


def _argmax_one_hot(out: np.ndarray, y: np.ndarray) -> float:
    """Per sample: the largest output sits where the target row has its 1."""
    return float(np.mean(np.argmax(out, axis=1) == np.argmax(y, axis=1)))


def _auto_accuracy(loss: Any, y: np.ndarray) -> Accuracy | None:
    """The usual accuracy for a named loss: sign for hinge, 0.5 for probabilities, argmax for
    classes; for squared losses only when every target is 0 or 1, and then per sample by argmax
    when each target is a one-hot row of two or more columns (several 1s in a row are
    independent labels, each scored at 0.5)."""
    if loss == "hinge":
        return _binary(0.0)
    if loss == "binary_cross_entropy":
        return _binary(0.5)
    if loss == "softmax_cross_entropy":
        return _argmax
    if loss in ("sum_of_squares", "mse") and np.isin(y, (0, 1)).all():
        if y.ndim == 2 and y.shape[1] >= 2 and (y.sum(axis=1) == 1).all():
            return _argmax_one_hot
        return _binary(0.5)
    return None


def _int_in(x: Any, low: float, high: float) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and low <= x <= high


def _model_inputs(model: Any, where: str) -> int | None:
    """The model's ``nin``, or None for a model without one (a micrograd-style Module)."""
    nin = getattr(model, "nin", None)
    if nin is not None and (isinstance(nin, bool) or not isinstance(nin, numbers.Integral) or nin < 1):
        raise TypeError(f"{where}: the model's nin must be a positive int (its input count), got {nin!r}")
    return nin


def _as_samples(X: Any, nin: int | None, where: str) -> np.ndarray:
    """``X`` as a float ``(samples, nin)`` array; with ``nin=None`` any number of columns >= 1."""
    X = np.asarray(X)
    if X.dtype.kind not in "iuf":
        raise TypeError(f"{where}: X must hold real numbers, got dtype {X.dtype}")
    if nin is None:
        # Without nin the model itself checks each row's length when it is called.
        if X.ndim != 2 or X.shape[1] < 1:
            raise ValueError(f"{where}: X must have shape (samples, inputs), got {X.shape}")
    elif X.ndim != 2 or X.shape[1] != nin:
        raise ValueError(f"{where}: X must have shape (samples, {nin}) for {nin} model inputs, got {X.shape}")
    if not np.isfinite(X).all():
        row = int(np.argwhere(~np.isfinite(X))[0, 0])
        raise ValueError(f"{where}: X holds a non-finite number in row {row}")
    return X.astype(float)


def _outputs(preds: list[Any]) -> np.ndarray:
    """The data of per-sample outputs: one Value each, or a list of Values each."""
    try:
        if isinstance(preds[0], Value):
            return np.array([p.data for p in preds], dtype=float)
        return np.array([[v.data for v in row] for row in preds], dtype=float)
    except (AttributeError, TypeError, ValueError):
        raise TypeError(
            f"the model must return a Value or a list of Values per sample, got {preds[0]!r}"
        ) from None


COMPILED_LOSSES = ("sum_of_squares", "mse", "binary_cross_entropy", "hinge")
"""Named losses that ``fit`` compiles by default (``softmax_cross_entropy`` picks each sample's
logit by its class index, a structure that changes with the targets, so it runs uncompiled)."""


@dataclass(frozen=True)
class _Plan:
    """fit's checked arguments."""

    X: np.ndarray
    y: np.ndarray
    loss_fn: Callable[[list[Any], Any], Value]
    measure: Accuracy | None
    batch_size: int
    epochs: int
    l2: float
    params: list[Value]
    to_zero: list[Value]


def _check(model: Any, X: Any, y: Any, loss: Any, optimizer: Any, epochs: Any, batch_size: Any,
           l2: Any, accuracy: Any, where: str) -> _Plan:
    """fit's arguments, checked, each error naming the argument."""
    X = _as_samples(X, _model_inputs(model, where), where)
    if len(X) == 0:
        raise ValueError(f"{where}: X has no rows to train on")
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(f"{where}: y must have one target per row of X ({len(X)}), got shape {y.shape}")
    if isinstance(loss, str):
        if loss not in LOSSES:
            choices = ", ".join(LOSSES)
            raise ValueError(f"{where}: unknown loss {loss!r}; choose one of {choices} or a callable")
        loss_fn = LOSSES[loss]
    elif callable(loss):
        loss_fn = loss
    else:
        raise TypeError(f"{where}: loss must be a name or a callable, got {type(loss).__name__}")
    if not isinstance(optimizer, Optimizer):
        kind = type(optimizer).__name__
        raise TypeError(f"{where}: optimizer must be an nn optimizer (SGD, Adam), got {kind}")
    if not _int_in(epochs, 1, math.inf):
        raise ValueError(f"{where}: epochs must be a positive int, got {epochs!r}")
    n = len(X)
    if batch_size is None:
        batch_size = n
    elif not _int_in(batch_size, 1, n):
        raise ValueError(f"{where}: batch_size must be an int in 1..{n} or None, got {batch_size!r}")
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not 0 <= l2 < math.inf:
        raise ValueError(f"{where}: l2 must be a finite number >= 0, got {l2!r}")
    measure = _auto_accuracy(loss, y) if accuracy == "auto" else accuracy
    if measure is not None and not callable(measure):
        raise TypeError(f"{where}: accuracy must be 'auto', None or a callable, got {accuracy!r}")

    params = model.parameters()
    if set(params).isdisjoint(optimizer.parameters):  # Values hash by identity
        # Such an optimizer would step Values the loss never reaches: training would silently do nothing.
        kind = type(optimizer).__name__
        raise ValueError(
            f"{where}: none of the {kind} optimizer's {len(optimizer.parameters)} parameters belong to the "
            f"model {model!r}; build it from this model, e.g. {kind}(model.parameters(), lr=...)"
        )
    # Both sets, each Value once: the model may hold parameters the optimizer does not train, and
    # the optimizer may train Values outside the model (a learnable loss scale) that would
    # accumulate. Not model.zero_grad(), which a plain model may lack.
    to_zero = list(dict.fromkeys([*params, *optimizer.parameters]))
    return _Plan(X, y, loss_fn, measure, batch_size, epochs, float(l2), params, to_zero)


def _batches(n: int, batch_size: int, epochs: int,
             rng: np.random.RandomState) -> Iterator[tuple[int, np.ndarray]]:
    """(epoch, row indices) per step: data order for full batches, else a seeded shuffle per epoch."""
    for epoch in range(epochs):
        order = np.arange(n) if batch_size == n else rng.permutation(n)
        for start in range(0, n, batch_size):
            yield epoch, order[start:start + batch_size]


def _total_loss(plan: _Plan, preds: list[Any], targets: Any, where: str) -> Value:
    total = plan.loss_fn(preds, targets)
    if not isinstance(total, Value):
        raise TypeError(f"{where}: the loss must return a Value, got {type(total).__name__}")
    return total + plan.l2 * l2_penalty(plan.params) if plan.l2 else total


def _differentiate(out: Any, plan: _Plan, step: int, where: str) -> float:
    """Both steps' end: refuse a non-finite loss, zero the grads, back-propagate; the loss."""
    if not math.isfinite(out.data):
        raise FloatingPointError(f"{where}: the loss is {out.data!r} at step {step}")
    for p in plan.to_zero:
        p.grad = 0.0
    out.backward()
    return out.data


class _EagerStep:
    """One step on the engine: the batch's graph built, zeroed, differentiated and dropped."""

    compiled = False

    def __init__(self, model: Any, plan: _Plan, where: str) -> None:
        self.model, self.plan, self.where = model, plan, where
        self.rows = [list(r) for r in plan.X.tolist()]

    def __call__(self, idx: np.ndarray, step: int) -> tuple[float, np.ndarray]:
        """The step's loss and the batch's outputs; grads filled."""
        preds = [self.model(self.rows[i]) for i in idx]
        total = _total_loss(self.plan, preds, self.plan.y[idx], self.where)
        loss = _differentiate(total, self.plan, step, self.where)
        return loss, _outputs(preds)  # before the graph goes; the Values are dropped with it


class _CompiledStep:
    """One step as an ``autograd.compile`` program: recorded on the first batch, then replayed.

    If the first recording fails (the model or a custom loss cannot take Values for the
    targets, an op without formula text), the step runs on the engine from then on, and
    ``reason`` says why.
    """

    def __init__(self, model: Any, plan: _Plan, where: str) -> None:
        self.model, self.plan, self.where = model, plan, where
        self.fast = compile_step(self._step)
        self.fallback: _EagerStep | None = None
        self.reason = ""

    @property
    def compiled(self) -> bool:
        return self.fallback is None

    def _step(self, X: np.ndarray, y: np.ndarray) -> tuple[Value, list[Any]]:
        preds = [self.model(list(row)) for row in X]
        return _total_loss(self.plan, preds, y, self.where), preds

    def __call__(self, idx: np.ndarray, step: int) -> tuple[float, np.ndarray]:
        if self.fallback is not None:
            return self.fallback(idx, step)
        plan = self.plan
        full = plan.batch_size == len(plan.X)  # then idx is every row in order: no copies
        try:
            out = self.fast(plan.X, plan.y) if full else self.fast(plan.X[idx], plan.y[idx])
        except (CompileError, TypeError, ValueError) as err:
            if self.fast.stats["recorded"]:
                raise
            # The engine decides: it raises the same error if the step itself is wrong.
            self.reason = f"{type(err).__name__}: {err}"
            self.fallback = _EagerStep(self.model, self.plan, self.where)
            return self.fallback(idx, step)
        return _differentiate(out, plan, step, self.where), out.aux[0]


def _optimizer_step(optimizer: Optimizer, where: str) -> float:
    """Update the parameters; the learning rate used (a stateful schedule is called once per step)."""
    lr = optimizer.step()
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(
            f"{where}: {type(optimizer).__name__}.step() returned {lr!r}; it must return "
            "the learning rate it used, as Optimizer.step does"
        )
    return lr


def _log(history: History, bar: Any, loss: float, acc: float | None, lr: float) -> None:
    history.loss.append(loss)
    history.lr.append(lr)
    shown = {"loss": f"{loss:.4g}"}  # a dict keeps this order; keywords are sorted
    if acc is not None:
        history.accuracy.append(acc)
        shown["acc"] = f"{acc:.1%}"
    if not bar.disable:
        bar.set_postfix(shown, refresh=False)
        bar.update(1)


def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable[[list[Any], np.ndarray], Value],
    optimizer: Optimizer,
    epochs: int = 100,
    batch_size: int | None = None,
    l2: float = 0.0,
    accuracy: str | Accuracy | None = "auto",
    callbacks: Sequence[Callable[[StepInfo], Any]] = (),
    progress: bool = True,
    seed: int = 0,
    desc: str = "training",
    compiled: bool | None = None,
    record_every: int | None = None,
) -> History:
    """Train ``model`` on rows ``X`` and targets ``y``; returns the per-step History.

    The model needs ``parameters()`` and a call on one row; its ``nin``, if it has one, fixes
    the width of ``X`` (a micrograd-style module without one checks each row itself).

    Each step runs the model on a batch, takes ``loss(predictions, targets)`` (a name from
    ``nn.LOSSES`` or a callable) plus ``l2 * sum(p * p)``, zeroes the grads of the model's and
    the optimizer's parameters, back-propagates and calls ``optimizer.step()``, recording the
    learning rate it returns. The optimizer must hold at least one of the model's parameters
    (ValueError otherwise); it may hold others too, such as a learnable scale in the loss.
    ``batch_size=None`` is one full-batch step per epoch, in data order; otherwise each epoch
    visits a seeded shuffle in batches.
    ``accuracy='auto'`` picks one from the loss name (see ``_auto_accuracy``). A callback
    that returns True stops training after its step. The tqdm bar shows loss and accuracy;
    ``progress=False`` hides it.

    ``compiled``: run each step as an ``autograd.compile`` program (the same values and
    gradients, many times faster). ``None`` (the default) compiles the losses named in
    ``COMPILED_LOSSES``; ``True`` also a callable loss (it must then have no side effects:
    it runs once, when the step is recorded, and must accept leaf Values as targets);
    ``False`` never. ``history.compiled`` says what ran.

    ``record_every=N`` keeps a :class:`Snapshot` of the model at steps 0, N, 2N, ... and at
    the last step in ``history.snapshots`` (what ``viz.write_training`` steps through): each
    parameter's value after the update and the gradient it used, two float arrays. That costs
    16 bytes per parameter per snapshot (an ``MLP(2, [16, 16, 1])``, 337 parameters, over
    1,000 snapshots: 5.4 MB) and a copy of the parameters at each of those steps; ``None``
    (the default) records nothing.
    """
    where = "fit"
    plan = _check(model, X, y, loss, optimizer, epochs, batch_size, l2, accuracy, where)
    if compiled is None:
        compiled = isinstance(loss, str) and loss in COMPILED_LOSSES
    elif not isinstance(compiled, bool):
        raise TypeError(f"{where}: compiled must be True, False or None, got {compiled!r}")
    if record_every is not None and not _int_in(record_every, 1, math.inf):
        raise ValueError(f"{where}: record_every must be a positive int (steps between snapshots) or None, "
                         f"got {record_every!r}")
    recorder = None if record_every is None else Recorder(record_every, where=where)
    step_fn = _CompiledStep(model, plan, where) if compiled else _EagerStep(model, plan, where)
    rng = make_rng(seed, where)
    history = History()
    last = None
    total = epochs * math.ceil(len(plan.X) / plan.batch_size)
    bar = tqdm(total=total, desc=desc, disable=not progress, leave=True)
    try:
        for step, (epoch, idx) in enumerate(_batches(len(plan.X), plan.batch_size, epochs, rng)):
            loss_value, outputs = step_fn(idx, step)
            lr = _optimizer_step(optimizer, where)
            acc = None if plan.measure is None else plan.measure(outputs, plan.y[idx])
            _log(history, bar, loss_value, acc, lr)
            last = (step, epoch, loss_value)
            if recorder is not None and (recorder.due(step) or step == total - 1):  # before callbacks
                recorder.take(step, epoch, loss_value, plan.params)
            info = StepInfo(step, epoch, loss_value, acc, lr, model, optimizer)
            if any([bool(cb(info)) for cb in callbacks]):
                history.stopped_early = True
                break
    finally:
        bar.close()
        history.compiled = step_fn.compiled
        history.not_compiled_because = getattr(step_fn, "reason", "") if compiled else "compiled=False"
    if recorder is not None and last is not None:
        recorder.finish(*last, plan.params)  # a callback stopped training at a step not kept
        history.snapshots = recorder.snapshots
    return history


def predict(model: Any, X: Any) -> np.ndarray:
    """The model's outputs for each row of ``X``, as floats, computed under ``no_grad``.

    ``X`` must have ``model.nin`` columns when the model has an ``nin``.

    Shape ``(n,)`` when the model returns one Value per sample, ``(n, k)`` when it returns k.
    """
    X = _as_samples(X, _model_inputs(model, "predict"), "predict")
    with no_grad():
        outs = [model(row) for row in X.tolist()]
    return _outputs(outs) if outs else np.zeros((0,))
