"""A bridge to PyTorch: the same MLP as a ``torch.nn.Module``, and back.

Train and look inside on chainrule, then carry on in PyTorch (a GPU, many machines); or
bring a small torch MLP here to see its backward pass. torch is an optional extra
(``pip install chainrule[torch]``), imported only when one of these functions is called.

``to_torch(mlp)`` is a ``torch.nn.Sequential`` of ``Linear`` layers, each followed by its
activation module (none for ``linear``): ``Linear.weight[j, i]`` is neuron j's ``w.i`` and
``Linear.bias[j]`` its ``b``. It maps a batch of shape ``(n, nin)`` to ``(n, nout)``, where
the chainrule MLP maps one row to a Value (one output) or a list. In float64 the outputs and
gradients agree to rounding (about 1e-15 relative).
"""

from __future__ import annotations

from typing import Any

from .modules import MLP

__all__ = ["to_torch", "from_torch"]

EXTRA = "pip install chainrule[torch]"
# PyTorch's Softplus turns linear above ``threshold`` (20 by default: an error of up to 2e-9);
# at 40 the gap exp(-40) is below float64's resolution, so the two agree to rounding.
SOFTPLUS_THRESHOLD = 40.0


def _torch(who: str) -> Any:
    try:
        import torch
    except ImportError as err:
        raise ImportError(f"{who} needs PyTorch, an optional extra: {EXTRA} "
                          f"(the import failed: {err})") from err
    return torch


def _activation_module(torch: Any, name: str) -> Any | None:
    """The torch module for chainrule's activation ``name`` (None for linear)."""
    return {
        "linear": lambda: None,
        "sigmoid": torch.nn.Sigmoid,
        "tanh": torch.nn.Tanh,
        "relu": torch.nn.ReLU,
        "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
        "softplus": lambda: torch.nn.Softplus(beta=1.0, threshold=SOFTPLUS_THRESHOLD),
    }[name]()


def to_torch(model: MLP, dtype: Any = None) -> Any:
    """An equivalent ``torch.nn.Sequential`` with ``model``'s architecture and current weights.

    ``dtype`` defaults to ``torch.float64``, which keeps every weight exactly.
    """
    torch = _torch("nn.to_torch")
    if not isinstance(model, MLP):
        raise TypeError(f"nn.to_torch: expected an nn.MLP, got {type(model).__name__}")
    dtype = torch.float64 if dtype is None else dtype
    parts = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, bias=layer.bias, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=dtype))
            if layer.bias:
                linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=dtype))
        parts.append(linear)
        act = _activation_module(torch, layer.activation)
        if act is not None:
            parts.append(act)
    return torch.nn.Sequential(*parts)


def _activation_name(torch: Any, module: Any, where: str) -> str:
    """chainrule's name for a torch activation module; anything it does not have is refused."""
    kinds = {torch.nn.Sigmoid: "sigmoid", torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu",
             torch.nn.Identity: "linear"}
    if type(module) in kinds:
        return kinds[type(module)]
    if isinstance(module, torch.nn.LeakyReLU) and module.negative_slope == 0.01:
        return "leaky_relu"
    if isinstance(module, torch.nn.Softplus) and module.beta == 1:
        return "softplus"
    raise ValueError(f"{where}: {type(module).__name__} has no chainrule equivalent; use Sigmoid, Tanh, "
                     "ReLU, LeakyReLU(0.01), Softplus(beta=1) or Identity")


def from_torch(module: Any) -> MLP:
    """An ``nn.MLP`` equal to a torch MLP: a ``torch.nn.Sequential`` of ``Linear`` layers, each
    followed by at most one activation chainrule has (Sigmoid, Tanh, ReLU, LeakyReLU(0.01),
    Softplus(beta=1), Identity). Hidden layers share one activation, and all or no layers have
    biases, as in ``nn.MLP``; anything else is a ValueError naming the layer.
    """
    torch = _torch("nn.from_torch")
    where = "nn.from_torch"
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"{where}: expected a torch.nn.Sequential of Linear layers and activations, "
                        f"got {type(module).__name__}")
    layers: list[list[Any]] = []  # [Linear, activation name]
    for i, part in enumerate(module):
        if isinstance(part, torch.nn.Linear):
            if layers and part.in_features != layers[-1][0].out_features:
                raise ValueError(f"{where}: layer {i} takes {part.in_features} inputs but the layer "
                                 f"before gives {layers[-1][0].out_features}")
            layers.append([part, "linear"])
            continue
        name = _activation_name(torch, part, f"{where}: layer {i}")
        if not layers:
            raise ValueError(f"{where}: layer {i} ({type(part).__name__}) comes before any Linear layer")
        if layers[-1][1] != "linear" and name != "linear":
            raise ValueError(f"{where}: layer {i} is a second activation after one Linear layer")
        if name != "linear":
            layers[-1][1] = name
    if not layers:
        raise ValueError(f"{where}: the Sequential has no Linear layer")
    hidden = {act for _, act in layers[:-1]}
    if len(hidden) > 1:
        raise ValueError(f"{where}: the hidden layers use {', '.join(sorted(hidden))}; an nn.MLP has "
                         "one hidden activation")
    biases = {lin.bias is not None for lin, _ in layers}
    if len(biases) > 1:
        raise ValueError(f"{where}: some Linear layers have a bias and some do not; an nn.MLP has "
                         "biases in all layers or none")
    model = MLP(layers[0][0].in_features, [lin.out_features for lin, _ in layers],
                activation=hidden.pop() if hidden else "relu", output_activation=layers[-1][1],
                bias=biases.pop(), seed=0)
    state = {}
    for k, (lin, _) in enumerate(layers):
        weight = lin.weight.detach().to("cpu", torch.float64).tolist()
        bias = lin.bias.detach().to("cpu", torch.float64).tolist() if lin.bias is not None else None
        for j, row in enumerate(weight):
            for i, w in enumerate(row):
                state[f"layers.{k}.neurons.{j}.w.{i}"] = w
            if bias is not None:
                state[f"layers.{k}.neurons.{j}.b"] = bias[j]
    model.load_state_dict(state)
    return model
