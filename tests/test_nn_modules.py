"""Neuron, Layer and MLP: outputs and gradients against hand formulas and numpy, names,
input handling, initialisation and construction errors."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import nn
from chainrule.autograd import Value, topo_order

ACTS = {
    "linear": (lambda z: z, lambda z: 1.0),
    "sigmoid": (lambda z: 1 / (1 + math.exp(-z)), lambda z: math.exp(-z) / (1 + math.exp(-z)) ** 2),
    "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2),
    "relu": (lambda z: max(z, 0.0), lambda z: 1.0 if z > 0 else 0.0),
    "leaky_relu": (lambda z: z if z > 0 else 0.01 * z, lambda z: 1.0 if z > 0 else 0.01),
    "softplus": (lambda z: math.log1p(math.exp(z)), lambda z: 1 / (1 + math.exp(-z))),
}


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("bias", [True, False])
def test_neuron_value_and_gradients_match_hand_formulas(act, bias):
    f, df = ACTS[act]
    w = [0.5, -1.25, 2.0]
    neuron = nn.Neuron(3, activation=act, bias=bias, weights=w)
    if bias:
        neuron.b.data = 0.3
    xs = [Value(0.7), Value(-0.2), Value(0.4)]
    out = neuron(xs)
    z = sum(wi * xi.data for wi, xi in zip(w, xs)) + (0.3 if bias else 0.0)
    assert out.data == pytest.approx(f(z), rel=1e-12)
    out.backward()
    for wi, xi, p in zip(w, xs, neuron.w):
        assert p.grad == pytest.approx(df(z) * xi.data, rel=1e-12)
        assert xi.grad == pytest.approx(df(z) * wi, rel=1e-12)
    if bias:
        assert neuron.b.grad == pytest.approx(df(z), rel=1e-12)


def test_neuron_builds_a_left_to_right_chain_with_bias_last():
    neuron = nn.Neuron(3, activation="tanh", weights=[1.0, 2.0, 3.0])
    x = [Value(1.0), Value(2.0), Value(3.0)]
    out = neuron(x)
    assert out._op == "tanh" and out.label == "neuron"
    (s,) = out._prev
    left, b = s._prev
    assert s._op == "+" and b is neuron.b
    left2, prod2 = left._prev
    assert prod2._op == "*" and prod2._prev == (neuron.w[2], x[2])
    prod0, prod1 = left2._prev
    assert prod0._prev == (neuron.w[0], x[0]) and prod1._prev == (neuron.w[1], x[1])
    # Starting from the first product: no constant node (no 0 + ...) anywhere in the graph.
    assert not any(v.is_constant for v in topo_order(out))
    assert len(topo_order(out)) == 3 + 3 + 1 + 3 + 2 + 1 + 1


def test_linear_neuron_labels_its_sum():
    neuron = nn.Neuron(2, activation="linear", bias=False, weights=[1.0, 1.0], name="adder")
    out = neuron([1.0, 2.0])
    assert out._op == "+" and out.label == "adder" and out.data == 3.0


def test_names_and_labels_inside_an_mlp():
    model = nn.MLP(3, [4, 2, 1], activation="tanh")
    names = [name for name, _ in model.named_modules()]
    assert names[:4] == ["mlp", "layers.0", "layers.0.neurons.0", "layers.0.neurons.1"]
    assert names[-2:] == ["layers.2", "layers.2.neurons.0"]
    assert len(names) == 1 + 3 + 4 + 2 + 1
    for name, module in model.named_modules():
        assert module.name == name
    for name, p in model.named_parameters():
        assert p.label == name
    pnames = [name for name, _ in model.named_parameters()]
    assert pnames[:5] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
                          "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert pnames[-1] == "layers.2.neurons.0.b"
    # Each call labels every neuron's output node with the neuron's name.
    out = model([0.1, 0.2, 0.3])
    assert out.label == "layers.2.neurons.0"
    labels = {v.label for v in topo_order(out)}
    assert {f"layers.0.neurons.{j}" for j in range(4)} <= labels
    assert {"layers.1.neurons.0", "layers.1.neurons.1", "x.0", "x.1", "x.2"} <= labels


def test_standalone_modules_are_named_from_their_own_root():
    layer = nn.Layer(2, 3, name="hidden")
    assert layer.name == "hidden"
    assert [n for n, _ in layer.named_modules()] == ["hidden", "neurons.0", "neurons.1", "neurons.2"]
    assert layer.neurons[1].w[0].label == "neurons.1.w.0"
    assert layer([1.0, 2.0])[2].label == "neurons.2"
    neuron = nn.Neuron(2)
    assert neuron.name == "neuron" and [p.label for p in neuron.parameters()] == ["neuron.w.0", "neuron.w.1",
                                                                                 "neuron.b"]
    assert [n for n, _ in neuron.named_parameters()] == ["w.0", "w.1", "b"]
    assert list(neuron.state_dict()) == ["w.0", "w.1", "b"]
    unit = nn.Neuron(2, name="unit")
    assert unit([1.0, 2.0]).label == "unit" and unit.w[1].label == "unit.w.1"
    assert nn.MLP(2, [1], name="tiny").name == "tiny"


def test_parameter_count_and_order_match_micrograd_layout():
    model = nn.MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1)
    first = model.layers[0].neurons[0]
    assert params[:3] == [first.w[0], first.w[1], first.b]
    assert len({id(p) for p in params}) == len(params)


def test_zero_grad_resets_every_parameter():
    model = nn.MLP(2, [3, 1])
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def numpy_forward(model, x):
    """The MLP's output computed with numpy matrices read from the parameters."""
    fns = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z,
           "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    h = np.asarray(x, dtype=float)
    for layer in model.layers:
        W = np.array([[n.w[i].data for n in layer.neurons] for i in range(layer.nin)])
        b = np.array([n.b.data if n.b is not None else 0.0 for n in layer.neurons])
        h = fns[layer.activation](h @ W + b)
    return h


def test_mlp_output_matches_numpy_and_central_differences():
    model = nn.MLP(3, [5, 1, 3], activation="tanh", output_activation="sigmoid", seed=3)
    for p in model.parameters():
        p.data += 0.1  # biases off zero so that they matter
    x = [0.3, -0.8, 0.5]
    out = model(x)
    assert isinstance(out, list) and len(out) == 3
    np.testing.assert_allclose([o.data for o in out], numpy_forward(model, x), rtol=1e-12)

    def loss_data():
        return float(np.sum(numpy_forward(model, x) * np.array([1.0, -2.0, 0.5])))

    loss = out[0] * 1.0 + out[1] * -2.0 + out[2] * 0.5
    model.zero_grad()
    loss.backward()
    h = 1e-6
    for name, p in model.named_parameters():
        keep = p.data
        p.data = keep + h
        up = loss_data()
        p.data = keep - h
        down = loss_data()
        p.data = keep
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8), name


def test_one_neuron_hidden_layer_works():
    # micrograd's Layer returns a bare Value for one neuron, which the next layer cannot take.
    model = nn.MLP(2, [1, 3, 1], activation="tanh")
    hidden = model.layers[0]([0.5, -0.5])
    assert isinstance(hidden, list) and len(hidden) == 1
    out = model([0.5, -0.5])
    assert isinstance(out, Value)
    assert out.data == pytest.approx(float(numpy_forward(model, [0.5, -0.5])[0]), rel=1e-12)
    out.backward()
    assert model.layers[0].neurons[0].w[0].grad != 0.0


def test_single_output_mlp_returns_a_value_and_layer_returns_a_list():
    assert isinstance(nn.MLP(2, [3, 1])([1.0, 2.0]), Value)
    assert isinstance(nn.MLP(2, [3, 2])([1.0, 2.0]), list)
    out = nn.Layer(2, 1)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1


@pytest.mark.parametrize("make", [
    lambda: [0.25, -1.5],
    lambda: (0.25, -1.5),
    lambda: np.array([0.25, -1.5]),
    lambda: np.array([0.25, -1.5], dtype=np.float32),
    lambda: [np.float64(0.25), Value(-1.5)],
    lambda: np.array([Value(0.25), Value(-1.5)], dtype=object),
])
def test_inputs_may_be_lists_tuples_arrays_of_numbers_or_values(make):
    model = nn.MLP(2, [3, 1], seed=5)
    expected = float(numpy_forward(model, [0.25, -1.5])[0])
    assert model(make()).data == pytest.approx(expected, rel=1e-12)


def test_integer_inputs_are_accepted_and_shared_per_call():
    model = nn.MLP(2, [4, 1])
    out = model(np.array([1, 2]))
    inputs = [v for v in topo_order(out) if v.label.startswith("x.")]
    assert sorted(v.label for v in inputs) == ["x.0", "x.1"]  # one leaf per input, not per product
    assert [v.data for v in sorted(inputs, key=lambda v: v.label)] == [1.0, 2.0]


@pytest.mark.parametrize("module", [nn.Neuron(3), nn.Layer(3, 2), nn.MLP(3, [2, 1])])
@pytest.mark.parametrize("given", [2, 4])
def test_wrong_input_count_names_expected_and_given(module, given):
    with pytest.raises(ValueError, match=f"expected 3 inputs, got {given}"):
        module([1.0] * given)


@pytest.mark.parametrize("bad, error, match", [
    (np.ones((1, 3)), ValueError, r"1-D input .* shape \(1, 3\)"),
    (1.0, TypeError, "got float"),
    ("abc", TypeError, "got str"),
    ({1, 2, 3}, TypeError, "got set"),
    ([1.0, "2", 3.0], TypeError, "input 1 is str"),
    ([1.0, True, 3.0], TypeError, "input 1 is bool"),
    ([1.0, 2.0, float("nan")], ValueError, "input 2 is nan"),
    ([1.0, float("inf"), 3.0], ValueError, "input 1 is inf"),
    ([1.0, 2.0, None], TypeError, "input 2 is NoneType"),
])
def test_bad_inputs_raise_clear_errors(bad, error, match):
    with pytest.raises(error, match=match):
        nn.MLP(3, [2, 1])(bad)


def test_uniform01_is_numpy_rand_column_per_neuron():
    model = nn.MLP(3, [4, 2], init="uniform01", seed=42)
    rs = np.random.RandomState(42)
    w1, w2 = rs.rand(3, 4), rs.rand(4, 2)
    for W, layer in ((w1, model.layers[0]), (w2, model.layers[1])):
        for j, neuron in enumerate(layer.neurons):
            assert [p.data for p in neuron.w] == W[:, j].tolist()
            assert neuron.b.data == 0.0


def test_uniform_is_micrograds_range_and_seed_is_machine_independent():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    rs = np.random.RandomState(0)
    assert [n.w[0].data for n in model.layers[0].neurons] == rs.uniform(-1, 1, (2, 16))[0].tolist()
    # RandomState's stream is frozen by numpy: the first weight of seed 0 is the same everywhere.
    assert model.parameters()[0].data == 2 * 0.5488135039273248 - 1
    data = [p.data for p in model.parameters()]
    assert data == [p.data for p in nn.MLP(2, [16, 16, 1], seed=0).parameters()]
    assert data == [p.data for p in nn.MLP(2, [16, 16, 1], seed=np.random.RandomState(0)).parameters()]
    assert data != [p.data for p in nn.MLP(2, [16, 16, 1], seed=1).parameters()]
    assert all(-1 <= p.data < 1 for p in model.parameters())


def weights(module):
    return [p.data for p in module.parameters()]


def test_unseeded_modules_differ_so_symmetry_breaks():
    nn.init.seed(0)
    neurons = [nn.Neuron(3) for _ in range(4)]  # micrograd's Layer builds its neurons this way
    assert len({tuple(weights(n)[:3]) for n in neurons}) == 4
    # The four draws are the shared stream's first twelve numbers, in order.
    drawn = [w for n in neurons for w in weights(n)[:3]]
    assert drawn == np.random.RandomState(0).uniform(-1, 1, 12).tolist()
    assert weights(nn.Layer(3, 2)) != weights(nn.Layer(3, 2))
    assert weights(nn.MLP(2, [4, 1])) != weights(nn.MLP(2, [4, 1]))


def test_the_shared_stream_restarts_and_int_seeds_neither_use_nor_move_it():
    nn.init.seed(5)
    first = weights(nn.MLP(2, [4, 1]))
    assert first == weights(nn.MLP(2, [4, 1], seed=5))  # an int seed: today's RandomState(seed)
    nn.init.seed(5)
    assert weights(nn.Neuron(3, seed=9)) == weights(nn.Neuron(3, seed=9))
    nn.Neuron(2, weights=[1.0, 2.0])  # given weights draw nothing
    tutorial = weights(nn.tutorial_network(seed=1))
    assert weights(nn.MLP(2, [4, 1])) == first
    nn.MLP(2, [4, 1])  # moves the shared stream on; the tutorial's network does not care
    assert weights(nn.tutorial_network(seed=1)) == tutorial
    assert tutorial[:3] == np.random.RandomState(1).rand(3, 4)[:, 0].tolist()  # hidden neuron 0, no bias


def test_an_unseeded_program_builds_the_same_weights_every_run():
    import subprocess
    import sys

    program = ("from chainrule import nn; "
               "print([p.data for m in (nn.Neuron(3), nn.MLP(2, [3, 1])) for p in m.parameters()])")
    root = Path(__file__).resolve().parent.parent
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                           cwd=root).stdout for _ in range(2)]
    assert runs[0] == runs[1]
    rs = np.random.RandomState(0)  # the stream nn starts from at import
    neuron = nn.Neuron(3, seed=rs)
    mlp = nn.MLP(2, [3, 1], seed=rs)
    assert runs[0] == f"{weights(neuron) + weights(mlp)}\n"


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError),
                                        (None, TypeError), (True, TypeError)])
def test_init_seed_rejects_what_is_not_a_seed(bad, error):
    state = nn.init._shared.get_state()[1].copy()
    with pytest.raises(error, match="nn.init.seed: seed must be"):
        nn.init.seed(bad)
    assert (nn.init._shared.get_state()[1] == state).all()


@pytest.mark.parametrize("init, var", [("lecun", 1.0), ("he", 2.0)])
def test_fan_in_scaled_inits(init, var):
    nin = 200
    layer = nn.Layer(nin, 50, init=init, seed=1)
    w = np.array([[p.data for p in n.w] for n in layer.neurons])
    bound = math.sqrt(3 * var / nin)
    assert np.abs(w).max() <= bound
    assert w.var() == pytest.approx(var / nin, rel=0.05)


def test_custom_init_callable_and_its_checks():
    layer = nn.Layer(2, 3, init=lambda rng, nin, nout: np.full((nin, nout), 0.5))
    assert all(p.data == 0.5 for n in layer.neurons for p in n.w)
    with pytest.raises(ValueError, match=r"init returned shape \(3, 2\), expected \(2, 3\)"):
        nn.Layer(2, 3, init=lambda rng, nin, nout: np.zeros((nout, nin)))
    with pytest.raises(ValueError, match="non-finite"):
        nn.Layer(2, 3, init=lambda rng, nin, nout: np.full((nin, nout), np.nan))


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.Neuron(0), ValueError, "nin must be at least 1, got 0"),
    (lambda: nn.Neuron("3"), TypeError, "nin must be an int"),
    (lambda: nn.Neuron(2, activation="swish"), ValueError, "unknown activation 'swish'"),
    (lambda: nn.Neuron(2, bias=1), TypeError, "bias must be True or False"),
    (lambda: nn.Neuron(2, weights=[1.0]), ValueError, r"expected 2 weights, got shape \(1,\)"),
    (lambda: nn.Neuron(2, weights=[1.0, float("nan")]), ValueError, "weights must be finite"),
    (lambda: nn.Neuron(2, name=""), TypeError, "name must be a non-empty str"),
    (lambda: nn.Layer(2, 0), ValueError, "nout must be at least 1"),
    (lambda: nn.MLP(2, []), ValueError, "at least one layer"),
    (lambda: nn.MLP(2, 3), TypeError, "nouts must be a list"),
    (lambda: nn.MLP(2, [4, 0, 1]), ValueError, r"nouts\[1\] must be at least 1"),
    (lambda: nn.MLP(2, [4, 2.5]), TypeError, r"nouts\[1\] must be an int"),
    (lambda: nn.MLP(2, [1], output_activation="soft"), ValueError, "output_activation: unknown"),
    (lambda: nn.MLP(2, [1], init="normal"), ValueError, "unknown init 'normal'"),
    (lambda: nn.MLP(2, [1], seed=-1), ValueError, r"seed must be in \[0, 2\*\*32\)"),
    (lambda: nn.MLP(2, [1], seed=1.5), TypeError, "seed must be an int"),
])
def test_construction_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_reprs_read_like_the_architecture():
    assert repr(nn.MLP(2, [16, 16, 1])) == "MLP(2 -> 16 relu -> 16 relu -> 1 linear)"
    assert repr(nn.MLP(3, [4, 1], activation="tanh", bias=False)) == "MLP(3 -> 4 tanh -> 1 linear, no bias)"
    assert repr(nn.Layer(3, 4, activation="sigmoid")) == "Layer(3 -> 4, sigmoid)"
    assert repr(nn.Neuron(3, bias=False)) == "Neuron(3, relu, no bias)"


@settings(max_examples=25, deadline=None)
@given(
    nin=st.integers(1, 4),
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    act=st.sampled_from(["tanh", "sigmoid", "linear"]),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_any_small_mlp_matches_numpy_and_its_input_gradient_central_differences(nin, sizes, act, seed, data):
    model = nn.MLP(nin, sizes, activation=act, output_activation=act, init="lecun", seed=seed)
    x = data.draw(st.lists(st.floats(-2, 2), min_size=nin, max_size=nin))
    xs = [Value(v) for v in x]
    out = model(xs)
    outs = out if isinstance(out, list) else [out]
    assert isinstance(out, list) == (sizes[-1] > 1)
    np.testing.assert_allclose([o.data for o in outs], numpy_forward(model, x), rtol=1e-12, atol=1e-15)
    total = outs[0]
    for o in outs[1:]:
        total = total + o
    total.backward()
    h = 1e-6
    for i in range(nin):
        up, down = list(x), list(x)
        up[i] += h
        down[i] -= h
        numeric = (numpy_forward(model, up).sum() - numpy_forward(model, down).sum()) / (2 * h)
        assert xs[i].grad == pytest.approx(numeric, rel=1e-5, abs=1e-8)
