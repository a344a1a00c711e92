"""nn.to_torch / nn.from_torch: the same network in PyTorch, the same outputs and gradients in float64.

torch is imported by the fixture, not at collection, so the tests that run before these see a
process without it, as a chainrule user who never asked for it has.
"""

import importlib
import subprocess
import sys

import numpy as np
import pytest

from chainrule import nn
from chainrule.autograd import Value


@pytest.fixture
def torch():
    return importlib.import_module("torch")

TOL = 1e-12


def chainrule_pass(model, X):
    """Outputs (n, nout) and the gradient of L = sum(out**2) / 2 for every parameter, by name."""
    model.zero_grad()
    outs, total = [], Value(0.0)
    for row in X:
        out = model(list(row))
        out = out if isinstance(out, list) else [out]
        outs.append([o.data for o in out])
        for o in out:
            total = total + o * o * 0.5
    total.backward()
    return np.array(outs), {name: p.grad for name, p in model.named_parameters()}


def torch_pass(module, X):
    torch = importlib.import_module("torch")
    module.zero_grad()
    out = module(torch.tensor(X, dtype=torch.float64))
    (out * out * 0.5).sum().backward()
    grads = {}
    for k, lin in enumerate(m for m in module if isinstance(m, torch.nn.Linear)):
        for j in range(lin.out_features):
            for i in range(lin.in_features):
                grads[f"layers.{k}.neurons.{j}.w.{i}"] = lin.weight.grad[j, i].item()
            if lin.bias is not None:
                grads[f"layers.{k}.neurons.{j}.b"] = lin.bias.grad[j].item()
    return out.detach().numpy(), grads


def assert_same(model, module, X):
    out_c, grad_c = chainrule_pass(model, X)
    out_t, grad_t = torch_pass(module, X)
    np.testing.assert_allclose(out_c, out_t, rtol=TOL, atol=TOL)
    assert grad_c.keys() == grad_t.keys()
    for name in grad_c:
        assert grad_c[name] == pytest.approx(grad_t[name], rel=TOL, abs=TOL), name


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
@pytest.mark.parametrize("bias", [True, False])
def test_to_torch_gives_the_same_outputs_and_gradients(torch, activation, bias):
    rng = np.random.RandomState(3)
    model = nn.MLP(3, [5, 4, 2], activation=activation, output_activation="sigmoid", bias=bias, seed=7)
    for p in model.parameters():  # nonzero biases too, and some pre-activations past softplus's bend
        p.data = float(rng.uniform(-2, 2))
    X = rng.uniform(-3, 3, size=(6, 3))
    X[0] = [30.0, -30.0, 25.0]
    module = nn.to_torch(model)
    assert isinstance(module, torch.nn.Module)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert sum(p.numel() for p in module.parameters()) == len(model.parameters())
    assert_same(model, module, X)
    back = nn.from_torch(module)
    assert repr(back) == repr(model)
    assert back.state_dict() == model.state_dict()  # exact: float64 holds every weight


def test_from_torch_brings_a_torch_mlp_over(torch):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                                 torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    model = nn.from_torch(module)
    assert repr(model) == "MLP(4 -> 8 tanh -> 8 tanh -> 1 linear)"
    X = np.random.RandomState(1).normal(size=(5, 4))
    assert_same(model, module, X)


def test_from_torch_reads_float32_weights_exactly(torch):
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1),
                                 torch.nn.Sigmoid())
    model = nn.from_torch(module)
    assert model.layers[0].neurons[2].w[1].data == float(module[0].weight[2, 1].detach())
    assert model.layers[1].activation == "sigmoid"


@pytest.mark.parametrize("make, words", [
    (lambda t, L: t.nn.Sequential(L(2, 3), t.nn.GELU(), L(3, 1)), "GELU has no chainrule"),
    (lambda t, L: t.nn.Sequential(L(2, 3), t.nn.LeakyReLU(0.2), L(3, 1)), "LeakyReLU has no chainrule"),
    (lambda t, L: t.nn.Sequential(L(2, 3), t.nn.ReLU(), L(3, 3), t.nn.Tanh(), L(3, 1)),
     "one hidden activation"),
    (lambda t, L: t.nn.Sequential(L(2, 3), L(4, 1)), "layer 1 takes 4 inputs"),
    (lambda t, L: t.nn.Sequential(L(2, 3, bias=False), L(3, 1)), "biases in all layers"),
    (lambda t, L: t.nn.Sequential(t.nn.ReLU(), L(3, 1)), "comes before any Linear"),
    (lambda t, L: t.nn.Sequential(L(2, 3), t.nn.ReLU(), t.nn.Tanh()), "second activation"),
    (lambda t, L: L(2, 3), "expected a torch.nn.Sequential"),
])
def test_from_torch_refuses_what_an_mlp_cannot_be(torch, make, words):
    with pytest.raises((ValueError, TypeError), match=words):
        nn.from_torch(make(torch, torch.nn.Linear))


def test_torch_is_never_imported_unless_asked():
    code = ("import sys, chainrule, chainrule.cli\nfrom chainrule import nn, viz\n"
            "nn.MLP(2, [2, 1], seed=0)([1.0, 2.0])\nassert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_without_torch_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"nn.to_torch needs PyTorch, an optional extra: pip install "
                                          r"chainrule\[torch\]"):
        nn.to_torch(nn.MLP(2, [1], seed=0))
