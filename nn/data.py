"""Small datasets made in code with numpy, and a train/test split.

Each returns ``(X, y)``: ``X`` a float array of shape ``(n, features)``, ``y`` the labels
(class indices ``0..K-1`` as ints, or the tutorial's float targets). Points are shuffled and
every draw comes from ``numpy.random.RandomState(seed)``, so a seed gives the same data on
every machine. For micrograd's -1/+1 labels use ``2 * y - 1``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .init import make_rng

__all__ = ["tutorial", "moons", "circles", "spirals", "blobs", "train_test_split", "DATASETS", "ALIASES",
           "dataset_name"]


def _count(n: Any, what: str, where: str, least: int) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{where}: {what} must be an int, got {type(n).__name__}: {n!r}")
    if n < least:
        raise ValueError(f"{where}: {what} must be at least {least}, got {n}")
    return int(n)


def _nonneg(x: Any, what: str, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) or x < 0:
        raise ValueError(f"{where}: {what} must be a finite number >= 0, got {x!r}")
    return float(x)


def _split(n: int, k: int) -> list[int]:
    """n points over k classes, as even as possible, the first classes taking the remainder."""
    return [n // k + (1 if c < n % k else 0) for c in range(k)]


def _shuffled(rng: np.random.RandomState, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(X))
    return X[order], y[order]


def tutorial() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's table: 3 binary inputs, target = first XOR second (the third is always 1)."""
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0], dtype=float)
    return X, y


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: class 0 the upper arc, class 1 the lower, shifted one."""
    where = "moons"
    n = _count(n, "n", where, 2)
    noise = _nonneg(noise, "noise", where)
    rng = make_rng(seed, where)
    n0, n1 = _split(n, 2)
    t0 = np.linspace(0.0, math.pi, n0)
    t1 = np.linspace(0.0, math.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(rng, X, y)


def circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < factor < 1)."""
    where = "circles"
    n = _count(n, "n", where, 2)
    noise = _nonneg(noise, "noise", where)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"{where}: factor must be between 0 and 1, got {factor!r}")
    rng = make_rng(seed, where)
    n0, n1 = _split(n, 2)
    # endpoint=False: the first and last angle would otherwise be the same point.
    t0 = np.linspace(0.0, 2 * math.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * math.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X = np.vstack([outer, inner]) + noise * rng.standard_normal((n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(rng, X, y)


def spirals(
    n: int = 100, classes: int = 2, turns: float = 1.0, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` arms winding out from the origin, ``turns`` times round, evenly rotated."""
    where = "spirals"
    k = _count(classes, "classes", where, 2)
    n = _count(n, "n", where, k)
    noise = _nonneg(noise, "noise", where)
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not 0 < turns <= 10:
        raise ValueError(f"{where}: turns must be in (0, 10], got {turns!r}")
    rng = make_rng(seed, where)
    parts, labels = [], []
    for c, m in enumerate(_split(n, k)):
        r = np.linspace(0.05, 1.0, m)
        angle = 2 * math.pi * (turns * r + c / k) + noise * rng.standard_normal(m)
        parts.append(np.column_stack([r * np.cos(angle), r * np.sin(angle)]))
        labels.append(np.full(m, c))
    return _shuffled(rng, np.vstack(parts), np.concatenate(labels))


def blobs(
    n: int = 100, centers: Any = 3, std: float = 1.0, dim: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters of spread ``std``: ``centers`` an int (drawn uniformly in [-10, 10]^dim)
    or an array of shape ``(K, dim)``."""
    where = "blobs"
    rng = make_rng(seed, where)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = _count(centers, "centers", where, 1)
        dim = _count(dim, "dim", where, 1)
        mu = rng.uniform(-10.0, 10.0, size=(k, dim))
    else:
        mu = np.asarray(centers)
        if mu.ndim != 2 or mu.dtype.kind not in "iuf" or len(mu) == 0 or not np.isfinite(mu).all():
            raise ValueError(f"{where}: centers must be an int or a finite (K, dim) array, got {centers!r}")
        mu = mu.astype(float)
        k, dim = mu.shape
    n = _count(n, "n", where, k)
    std = _nonneg(std, "std", where)
    sizes = _split(n, k)
    X = np.repeat(mu, sizes, axis=0) + std * rng.standard_normal((n, dim))
    y = np.repeat(np.arange(k), sizes)
    return _shuffled(rng, X, y)


# One name per dataset, used by the API and the command line alike; the aliases are accepted too.
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "tutorial": tutorial, "moons": moons, "circles": circles, "spirals": spirals, "blobs": blobs,
}
ALIASES = {"moon": "moons", "circle": "circles", "spiral": "spirals", "blob": "blobs"}


def dataset_name(name: str) -> str:
    """The dataset's one name for ``name`` or an alias (``'spiral'`` -> ``'spirals'``); else a ValueError."""
    if name in DATASETS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def train_test_split(
    X: Any, y: Any, test_fraction: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, X_test, y_train, y_test``: a seeded shuffle, ``round(n * test_fraction)`` to test."""
    where = "train_test_split"
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"{where}: X and y need the same number of rows, got shapes {X.shape} and {y.shape}")
    frac = test_fraction
    if isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0 < frac < 1:
        raise ValueError(f"{where}: test_fraction must be between 0 and 1, got {test_fraction!r}")
    n_test = round(len(X) * test_fraction)
    if not 0 < n_test < len(X):
        raise ValueError(f"{where}: {len(X)} rows with test_fraction={test_fraction} leave an empty side")
    order = make_rng(seed, where).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
