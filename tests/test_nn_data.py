"""Datasets: the geometry each promises (checked without noise), labels, seeding, the split."""

import numpy as np
import pytest

from chainrule import nn


def test_tutorial_table():
    X, y = nn.data.tutorial()
    assert X.tolist() == [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    assert y.tolist() == [float(int(a) ^ int(b)) for a, b, _ in X]


def test_moons_geometry_without_noise():
    X, y = nn.data.moons(101, noise=0.0)
    assert X.shape == (101, 2) and sorted(set(y.tolist())) == [0, 1]
    assert (y == 0).sum() == 51 and (y == 1).sum() == 50
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-12)
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-12)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_moons_are_seeded_and_shuffled():
    a, ya = nn.data.moons(50, seed=3)
    b, yb = nn.data.moons(50, seed=3)
    c, _ = nn.data.moons(50, seed=4)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.array_equal(a, c)
    assert 0 < ya[:25].sum() < 25  # classes are mixed, not in two blocks


def test_circles_radii_without_noise():
    X, y = nn.data.circles(60, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-12)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-12)
    assert len(np.unique(X.round(12), axis=0)) == 60  # no repeated point at angle 0 and 2*pi


def test_spirals_classes_and_radii():
    X, y = nn.data.spirals(90, classes=3, noise=0.0)
    assert X.shape == (90, 2) and np.bincount(y).tolist() == [30, 30, 30]
    for c in range(3):
        r = np.sort(np.hypot(*X[y == c].T))
        np.testing.assert_allclose(r, np.linspace(0.05, 1.0, 30), rtol=1e-12)
    # The arms are rotations of each other by a third of a turn.
    arm0 = X[y == 0][np.argsort(np.hypot(*X[y == 0].T))]
    arm1 = X[y == 1][np.argsort(np.hypot(*X[y == 1].T))]
    t = 2 * np.pi / 3
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    np.testing.assert_allclose(arm0 @ rot.T, arm1, atol=1e-12)


def test_blobs_cluster_round_their_centres():
    centers = np.array([[0.0, 0.0], [10.0, -5.0]])
    X, y = nn.data.blobs(4000, centers=centers, std=0.5, seed=1)
    for c in range(2):
        np.testing.assert_allclose(X[y == c].mean(axis=0), centers[c], atol=0.05)
        np.testing.assert_allclose(X[y == c].std(axis=0), 0.5, rtol=0.05)
    X3, y3 = nn.data.blobs(30, centers=3, dim=4)
    assert X3.shape == (30, 4) and set(y3.tolist()) == {0, 1, 2}


def test_train_test_split_partitions_the_rows():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10)
    Xtr, Xte, ytr, yte = nn.data.train_test_split(X, y, test_fraction=0.3, seed=2)
    assert len(Xte) == 3 and len(Xtr) == 7
    assert sorted(ytr.tolist() + yte.tolist()) == list(range(10))
    assert np.array_equal(Xtr[:, 0], 2 * ytr) and np.array_equal(Xte[:, 0], 2 * yte)  # rows stay paired
    again = nn.data.train_test_split(X, y, test_fraction=0.3, seed=2)
    assert np.array_equal(again[1], Xte)


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.data.moons(1), ValueError, "n must be at least 2, got 1"),
    (lambda: nn.data.moons(10.0), TypeError, "n must be an int"),
    (lambda: nn.data.moons(10, noise=-0.1), ValueError, "noise must be a finite number >= 0"),
    (lambda: nn.data.moons(10, seed="x"), TypeError, "seed must be an int"),
    (lambda: nn.data.circles(10, factor=1.0), ValueError, "factor must be between 0 and 1"),
    (lambda: nn.data.spirals(2, classes=3), ValueError, "n must be at least 3"),
    (lambda: nn.data.spirals(10, turns=0), ValueError, "turns must be in"),
    (lambda: nn.data.blobs(10, centers=[1, 2]), ValueError, "finite \\(K, dim\\) array"),
    (lambda: nn.data.blobs(2, centers=3), ValueError, "n must be at least 3"),
    (lambda: nn.data.train_test_split(np.zeros((4, 2)), np.zeros(3)), ValueError, "same number of rows"),
    (lambda: nn.data.train_test_split(np.zeros((4, 2)), np.zeros(4), 1.0), ValueError, "between 0 and 1"),
    (lambda: nn.data.train_test_split(np.zeros((2, 2)), np.zeros(2), 0.1), ValueError, "empty side"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()
