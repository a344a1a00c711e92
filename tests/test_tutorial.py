"""The tutorial's network, trained side by side: its own numpy backprop against chainrule.

The reference below is the tutorial's algorithm as the tutorial writes it: matrix products,
sigmoid, the hand-derived chain rule for the sum-of-squares loss, and ``weights += d_weights``.
Its ``d_weights`` is minus the gradient, so chainrule's ``.grad`` must equal ``-d_weights``.
"""

import numpy as np
import pytest

from chainrule import nn

SEED = 1
ITERATIONS = 1500
X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_derivative(s):
    # As in the tutorial: the argument is already a sigmoid output.
    return s * (1.0 - s)


class TutorialNetwork:
    """The tutorial's two-layer network, biases assumed 0."""

    def __init__(self, weights1, weights2):
        self.weights1 = weights1.copy()
        self.weights2 = weights2.copy()

    def feedforward(self, x):
        self.layer1 = sigmoid(x @ self.weights1)
        self.output = sigmoid(self.layer1 @ self.weights2)
        return self.output

    def backprop(self, x, y):
        delta2 = 2 * (y - self.output) * sigmoid_derivative(self.output)
        d_weights2 = self.layer1.T @ delta2
        d_weights1 = x.T @ ((delta2 @ self.weights2.T) * sigmoid_derivative(self.layer1))
        return d_weights1, d_weights2


def tutorial_initial_weights(seed):
    # Equal to np.random.seed(seed); np.random.rand(3, 4); np.random.rand(4, 1), without
    # touching numpy's global state.
    rs = np.random.RandomState(seed)
    return rs.rand(3, 4), rs.rand(4, 1)


def chainrule_matrix(model, attr):
    """weights1/weights2 in the tutorial's layout, read from the model (attr 'data' or 'grad')."""
    hidden, (out,) = model.layers[0].neurons, model.layers[1].neurons
    w1 = np.array([[getattr(hidden[j].w[i], attr) for j in range(4)] for i in range(3)])
    w2 = np.array([[getattr(out.w[j], attr)] for j in range(4)])
    return w1, w2


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_network_weights_are_the_tutorials_draws(seed):
    w1, w2 = tutorial_initial_weights(seed)
    model = nn.tutorial_network(seed)
    got1, got2 = chainrule_matrix(model, "data")
    assert np.array_equal(got1, w1) and np.array_equal(got2, w2)
    assert all(layer.activation == "sigmoid" and not layer.bias for layer in model.layers)
    assert len(model.parameters()) == 12 + 4
    assert repr(model) == "MLP(3 -> 4 sigmoid -> 1 sigmoid, no bias)"


def test_dataset_is_the_tutorials_table():
    x, y = nn.data.tutorial()
    assert np.array_equal(x, X) and np.array_equal(y, Y[:, 0])


def test_tutorial_side_by_side_every_iteration():
    w1, w2 = tutorial_initial_weights(SEED)
    reference = TutorialNetwork(w1, w2)
    model = nn.tutorial_network(SEED)
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    rows = [list(r) for r in X]
    losses = []
    for it in range(ITERATIONS):
        expected_out = reference.feedforward(X)
        d_weights1, d_weights2 = reference.backprop(X, Y)
        expected_loss = float(np.sum((Y - expected_out) ** 2))

        preds = [model(r) for r in rows]
        loss = nn.sum_of_squares(preds, Y)
        model.zero_grad()
        loss.backward()
        g1, g2 = chainrule_matrix(model, "grad")
        np.testing.assert_allclose(g1, -d_weights1, rtol=1e-9, atol=0, err_msg=f"iteration {it}")
        np.testing.assert_allclose(g2, -d_weights2, rtol=1e-9, atol=0, err_msg=f"iteration {it}")
        np.testing.assert_allclose([p.data for p in preds], expected_out[:, 0], rtol=1e-12)
        assert loss.data == pytest.approx(expected_loss, rel=1e-12)

        optimizer.step()
        reference.weights1 += d_weights1
        reference.weights2 += d_weights2
        losses.append(loss.data)

    final = nn.predict(model, X)
    np.testing.assert_allclose(final, reference.feedforward(X)[:, 0], rtol=1e-9)
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), "loss must fall every step"
    np.testing.assert_allclose(final, [0, 1, 1, 0], atol=0.1)
    assert losses[0] > 1.0 and losses[-1] < 0.01


def test_fit_reproduces_the_loop():
    # nn.fit with the same pieces follows the same trajectory as the hand-written loop.
    w1, w2 = tutorial_initial_weights(SEED)
    reference = TutorialNetwork(w1, w2)
    for _ in range(200):
        reference.feedforward(X)
        d1, d2 = reference.backprop(X, Y)
        reference.weights1 += d1
        reference.weights2 += d2
    model = nn.tutorial_network(SEED)
    x, y = nn.data.tutorial()
    history = nn.fit(model, x, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
                     epochs=200, progress=False)
    assert len(history.loss) == 200 and history.lr == [1.0] * 200
    got1, got2 = chainrule_matrix(model, "data")
    np.testing.assert_allclose(got1, reference.weights1, rtol=1e-9)
    np.testing.assert_allclose(got2, reference.weights2, rtol=1e-9)
