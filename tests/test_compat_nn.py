"""micrograd's nn API, as its demo notebook and README use it, runs on chainrule's nn."""

import json
import math

import numpy as np
import pytest

from chainrule import nn
from chainrule.autograd import Value
from chainrule.nn import MLP, Layer, Neuron


@pytest.fixture(autouse=True)
def fresh_weight_stream():
    """Unseeded modules draw from nn.init's shared stream: restart it so each test builds the same
    weights however many modules earlier tests built (the demo's 30 steps fit some inits only)."""
    nn.init.seed(0)


def test_micrograd_demo_training_loop_runs_unchanged_and_learns():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(20, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1)  # a quadrant task a 16-16 MLP can fit
    model = MLP(2, [16, 16, 1])  # micrograd's demo network

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return data_loss + reg_loss, sum(accuracy) / len(accuracy)

    first, _ = loss()
    for k in range(30):
        total, acc = loss()
        model.zero_grad()
        total.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    last, acc = loss()
    assert last.data < 0.5 * first.data
    assert acc >= 0.9


def test_micrograd_nonlin_flag_and_module_api():
    n = Neuron(3, nonlin=False)  # a linear neuron
    x = [Value(0.5), Value(-1.0), Value(2.0)]
    out = n(x)
    expected = sum(w.data * xi.data for w, xi in zip(n.w, x)) + n.b.data
    assert math.isclose(out.data, expected, rel_tol=1e-12)
    out.backward()
    assert [w.grad for w in n.w] == [0.5, -1.0, 2.0]  # d(out)/d(w_i) = x_i
    n.zero_grad()
    assert all(p.grad == 0.0 for p in n.parameters())
    layer = Layer(2, 3, nonlin=False)
    assert len(layer([1.0, 2.0])) == 3 and len(layer.parameters()) == 9
    relu_neuron = Neuron(2, nonlin=True)
    for point in ([-3.0, 1.0], [3.0, -1.0], [1.0, 1.0]):
        pre = sum(w.data * xi for w, xi in zip(relu_neuron.w, point)) + relu_neuron.b.data
        assert relu_neuron(point).data == max(pre, 0.0)
    with pytest.raises(ValueError, match="nonlin=True means 'relu'"):
        Neuron(2, activation="tanh", nonlin=True)
    with pytest.raises(TypeError, match="nonlin"):
        Neuron(2, nonlin="yes")


def test_one_neuron_hidden_layer_works_where_micrograd_breaks():
    model = MLP(3, [1, 2])  # micrograd's Layer returns a bare Value for nout=1, breaking the next layer
    out = model([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2
    sum(out).backward()
    assert any(p.grad != 0.0 for p in model.parameters())


class MicrogradStyleNet(nn.Module):
    """Written as for micrograd: no Module.__init__, no name, only parameters() overridden."""

    def __init__(self, hidden=3, seed=1):
        self.hidden = Layer(2, hidden, activation="tanh", seed=seed)
        self.out = Neuron(hidden, activation="linear", seed=seed + 1)

    def __call__(self, x):
        return self.out(self.hidden(x))

    def parameters(self):
        return self.hidden.parameters() + self.out.parameters()


def test_a_micrograd_style_module_saves_and_loads_its_weights_by_index(tmp_path):
    net = MicrogradStyleNet()
    params = net.parameters()
    assert len(params) == 3 * 3 + 4
    state = net.state_dict()
    assert list(state) == [str(i) for i in range(13)]
    assert list(state.values()) == [p.data for p in params]
    path = tmp_path / "net.json"
    net.save(path)
    saved = [p.data for p in params]
    for p in params:
        p.data += 1.0
    net.load(path)
    assert [p.data for p in params] == saved
    assert json.loads(path.read_text())["model"] == "MicrogradStyleNet(13 parameters)"


def test_a_micrograd_style_module_refuses_weights_of_another_size(tmp_path):
    path = tmp_path / "wide.json"
    MicrogradStyleNet(hidden=4).save(path)  # 17 parameters
    net = MicrogradStyleNet(hidden=3)
    before = net.state_dict()
    with pytest.raises(ValueError, match=r"do not fit MicrogradStyleNet\(13 parameters\): unexpected 4 key"):
        net.load(path)
    assert net.state_dict() == before


def test_a_micrograd_style_module_has_its_class_name_and_can_be_named():
    net = MicrogradStyleNet()
    assert net.name == "MicrogradStyleNet"
    assert [(name, m) for name, m in net.named_modules()] == [("MicrogradStyleNet", net)]
    net.name = "mine"
    assert [name for name, _ in net.named_modules()] == ["mine"]
    net.zero_grad()  # reaches the overridden parameters()


def test_an_override_that_extends_super_parameters_is_named_by_index_without_recursing():
    class Tempered(Layer):
        def __init__(self):
            super().__init__(2, 2, seed=0)
            self.temperature = Value(2.0)

        def parameters(self):
            return super().parameters() + [self.temperature]

    layer = Tempered()
    state = layer.state_dict()
    assert list(state) == [str(i) for i in range(7)] and state["6"] == 2.0
    layer.load_state_dict({**state, "6": 0.5})
    assert layer.temperature.data == 0.5
    assert list(state.values())[:6] == list(Layer(2, 2, seed=0).state_dict().values())


def test_parameters_that_are_not_values_are_named_in_the_error():
    class Broken(nn.Module):
        def parameters(self):
            return [Value(1.0), 2.0]

    with pytest.raises(TypeError, match=r"Broken.parameters\(\): item 1 is float, not a Value"):
        Broken().state_dict()


def test_fit_and_predict_take_a_micrograd_style_module_without_nin():
    X, y = nn.data.moons(16, noise=0.1, seed=3)
    net = MicrogradStyleNet()
    history = nn.fit(net, X, 2.0 * y - 1.0, loss="hinge", optimizer=nn.SGD(net.parameters(), lr=0.1),
                     epochs=20, progress=False)
    assert len(history) == 20 and history.loss[-1] < history.loss[0]
    assert nn.predict(net, X).shape == (16,)
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):  # the model checks each row
        nn.predict(net, np.zeros((1, 3)))
