"""Initial weights: named schemes drawn from a seeded ``numpy.random.RandomState``.

``RandomState`` rather than ``default_rng``: numpy freezes RandomState's stream, so a seed
gives the same network on every machine and numpy version, and ``uniform01`` with seed ``s``
reproduces ``np.random.seed(s); np.random.rand(nin, nout)`` exactly, as the tutorial draws.

A layer with ``nin`` inputs and ``nout`` neurons draws one ``(nin, nout)`` matrix ``W``;
``W[i, j]`` is the weight from input ``i`` to neuron ``j``. Biases start at 0.

A module built without a seed (``seed=None``, the default) draws from one shared stream,
``RandomState(0)`` when ``nn`` is imported: successive modules differ, as micrograd's
``[Neuron(3) for _ in range(4)]`` needs to break symmetry, yet a program builds the same
weights every run. ``seed(n)`` restarts that stream. An int seed uses a fresh
``RandomState(seed)`` and leaves the shared stream alone.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["SCHEMES", "Init", "draw", "make_rng", "module_rng", "seed", "check_scheme"]

Init = str | Callable[[np.random.RandomState, int, int], np.ndarray]
"""A scheme name from SCHEMES, or ``f(rng, nin, nout) -> (nin, nout) array``."""


def _uniform01(rng: np.random.RandomState, nin: int, nout: int) -> np.ndarray:
    return rng.rand(nin, nout)


def _uniform(rng: np.random.RandomState, nin: int, nout: int) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=(nin, nout))


def _lecun(rng: np.random.RandomState, nin: int, nout: int) -> np.ndarray:
    # Variance 1/nin keeps a tanh or sigmoid layer's pre-activations near unit scale.
    bound = math.sqrt(3.0 / nin)
    return rng.uniform(-bound, bound, size=(nin, nout))


def _he(rng: np.random.RandomState, nin: int, nout: int) -> np.ndarray:
    # Variance 2/nin: relu zeroes half the signal, so twice LeCun's variance keeps the scale.
    bound = math.sqrt(6.0 / nin)
    return rng.uniform(-bound, bound, size=(nin, nout))


SCHEMES: dict[str, Callable[[np.random.RandomState, int, int], np.ndarray]] = {
    "uniform01": _uniform01,  # the tutorial: np.random.rand, uniform on [0, 1)
    "uniform": _uniform,  # micrograd: uniform on [-1, 1)
    "lecun": _lecun,  # uniform, variance 1/nin (fan-in scaled; tanh, sigmoid)
    "he": _he,  # uniform, variance 2/nin (fan-in scaled; relu)
}


_shared = np.random.RandomState(0)
"""The stream of modules built without a seed; restarted by ``seed``."""


def _checked_seed(n: Any, where: str, what: str = "an int or a numpy RandomState") -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{where}: seed must be {what}, got {type(n).__name__}")
    if not 0 <= n < 2**32:
        raise ValueError(f"{where}: seed must be in [0, 2**32), got {n}")
    return int(n)


def make_rng(seed: int | np.random.RandomState, where: str) -> np.random.RandomState:
    """A RandomState from an int seed (or the given RandomState, shared)."""
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(_checked_seed(seed, where))


def module_rng(seed: int | np.random.RandomState | None, where: str) -> np.random.RandomState:
    """``make_rng`` for a module's weights, where ``None`` means the shared stream."""
    if seed is None:
        return _shared
    return make_rng(seed, where)


def seed(n: int) -> None:
    """Restart the shared stream of unseeded modules, as if ``nn`` had just been imported with ``n``.

    After ``nn.init.seed(s)`` the next unseeded module equals the same module built with
    ``seed=s``. Raises TypeError for a non-int and ValueError outside ``[0, 2**32)``.
    """
    _shared.seed(_checked_seed(n, "nn.init.seed", "an int"))


def check_scheme(init: Init, where: str) -> None:
    """Raise unless ``init`` names a scheme or is callable."""
    if callable(init):
        return
    if not isinstance(init, str) or init not in SCHEMES:
        raise ValueError(f"{where}: unknown init {init!r}; choose one of {', '.join(SCHEMES)} or a callable")


def draw(init: Init, rng: np.random.RandomState, nin: int, nout: int, where: str) -> np.ndarray:
    """The ``(nin, nout)`` float matrix of initial weights; a custom scheme's output is checked."""
    check_scheme(init, where)
    fn = init if callable(init) else SCHEMES[init]
    w = np.asarray(fn(rng, nin, nout))
    if w.shape != (nin, nout):
        raise ValueError(f"{where}: init returned shape {w.shape}, expected ({nin}, {nout})")
    if w.dtype.kind not in "iuf":
        raise TypeError(f"{where}: init returned dtype {w.dtype}, expected real numbers")
    w = w.astype(float)
    if not np.isfinite(w).all():
        raise ValueError(f"{where}: init returned a non-finite weight")
    return w
