"""Optimizers: read each parameter's ``.grad`` and move its ``.data`` downhill.

The learning rate is a number or a schedule, any callable ``lr(step) -> float`` with
``step`` counting from 0 (micrograd's demo: ``lambda k: 1.0 - 0.9 * k / 100``). A fixed rate
must be finite and > 0, checked at construction; a schedule's value must be finite and >= 0,
checked as each step calls it. A step whose gradients or learning rate are not finite raises
before any parameter changes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from chainrule.autograd import Value

__all__ = ["Optimizer", "SGD", "Adam", "LearningRate"]

LearningRate = float | Callable[[int], float]


def _number(
    x: Any, what: str, where: str, low: float, high: float = math.inf, high_open: bool = False,
    low_open: bool = False,
) -> float:
    """``x`` as a float, or a TypeError/ValueError naming ``what``, ``where`` and the allowed range.

    The range is closed unless ``low_open``/``high_open`` say otherwise; NaN is never in range.
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{where}: {what} must be a number, got {type(x).__name__}: {x!r}")
    x = float(x)
    above = low < x if low_open else low <= x
    below = x < high if high_open else x <= high
    if not (above and below):
        opening = "(" if low_open else "["
        closing = ")" if high_open else "]"
        raise ValueError(f"{where}: {what} must be in {opening}{low}, {high}{closing}, got {x!r}")
    return x


def _rate(x: Any, what: str, where: str) -> float:
    """A fixed learning rate: finite and > 0 (0 would train nothing, inf or NaN ruin every weight)."""
    return _number(x, what, where, 0.0, math.inf, high_open=True, low_open=True)


class Optimizer:
    """Holds the parameters, the step count and the learning rate; subclasses say how to step."""

    def __init__(self, parameters: Iterable[Value], lr: LearningRate) -> None:
        where = type(self).__name__
        params = list(parameters)
        if not params:
            raise ValueError(f"{where}: no parameters to optimize")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"{where}: parameter {i} is {type(p).__name__}, not a Value")
            if not p.is_leaf:
                raise ValueError(f"{where}: parameter {i} is the output of a {p._op!r} op, not a leaf")
            if id(p) in seen:
                raise ValueError(f"{where}: parameter {i} ({p.label or repr(p)}) is listed twice")
            seen.add(id(p))
        if not callable(lr):
            _rate(lr, "lr", where)
        self.parameters = params
        self.lr = lr
        self.steps = 0
        """How many steps have been taken; the next step's schedule index."""

    def current_lr(self) -> float:
        """The learning rate the next ``step()`` will use.

        With a schedule this calls it (with ``self.steps``), so a stateful schedule sees an
        extra call; ``step()`` returns the rate it used without one.
        """
        if callable(self.lr):
            where = f"{type(self).__name__} lr schedule at step {self.steps}"
            # A schedule may decay to 0 (a last step that changes nothing), but never to inf or NaN.
            return _number(self.lr(self.steps), "the learning rate", where, 0.0, math.inf, high_open=True)
        # Checked again here because ``lr`` is a public attribute a user may reassign.
        return _rate(self.lr, "lr", type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.parameters:
            p.grad = 0.0

    def _check_grads(self) -> None:
        for i, p in enumerate(self.parameters):
            if not math.isfinite(p.grad):
                name = p.label or f"parameter {i}"
                raise FloatingPointError(f"{type(self).__name__}.step: the gradient of {name} is {p.grad!r}")

    def step(self) -> float:
        """Update every parameter from its grad, count the step, and return the learning rate used.

        A schedule is called exactly once per step, here; callers that record the rate should
        use this return value rather than call ``current_lr()`` again.
        """
        lr = self.current_lr()
        self._check_grads()
        self._update(lr)
        self.steps += 1
        return lr

    def _update(self, lr: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent: ``v = momentum * v + (grad + weight_decay * p)``; ``p -= lr * v``.

    With the defaults (no momentum, no decay) this is ``p -= lr * grad``, the tutorial's
    update at ``lr=1`` and micrograd's.
    """

    def __init__(
        self, parameters: Iterable[Value], lr: LearningRate, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(parameters, lr)
        self.momentum = _number(momentum, "momentum", "SGD", 0.0, 1.0, high_open=True)
        self.weight_decay = _number(weight_decay, "weight_decay", "SGD", 0.0, math.inf, high_open=True)
        self.velocity = [0.0] * len(self.parameters)

    def _update(self, lr: float) -> None:
        mu, wd, vel = self.momentum, self.weight_decay, self.velocity
        if mu == 0.0 and wd == 0.0:
            for p in self.parameters:
                p.data -= lr * p.grad
            return
        for i, p in enumerate(self.parameters):
            v = mu * vel[i] + p.grad + wd * p.data
            vel[i] = v
            p.data -= lr * v


class Adam(Optimizer):
    """Adam (Kingma & Ba): per-parameter steps scaled by running averages of grad and grad**2.

    ``m = b1*m + (1-b1)*g``, ``s = b2*s + (1-b2)*g*g``, then with bias corrections
    ``p -= lr * (m / (1 - b1**t)) / (sqrt(s / (1 - b2**t)) + eps)``; ``g`` includes
    ``weight_decay * p`` (L2, as in the original paper).
    """

    def __init__(
        self,
        parameters: Iterable[Value],
        lr: LearningRate = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair of numbers, got {betas!r}")
        self.betas = tuple(
            _number(b, f"betas[{i}]", "Adam", 0.0, 1.0, high_open=True) for i, b in enumerate(betas)
        )
        # eps keeps the step finite where a gradient and its running square are both 0.
        self.eps = _number(eps, "eps", "Adam", 0.0, math.inf, high_open=True, low_open=True)
        self.weight_decay = _number(weight_decay, "weight_decay", "Adam", 0.0, math.inf, high_open=True)
        self.m = [0.0] * len(self.parameters)
        self.s = [0.0] * len(self.parameters)

    def _update(self, lr: float) -> None:
        b1, b2 = self.betas
        t = self.steps + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        wd, eps, m, s = self.weight_decay, self.eps, self.m, self.s
        for i, p in enumerate(self.parameters):
            g = p.grad + wd * p.data
            m[i] = b1 * m[i] + (1.0 - b1) * g
            s[i] = b2 * s[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / c1) / (math.sqrt(s[i] / c2) + eps)

