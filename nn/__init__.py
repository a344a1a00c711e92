"""Neural networks on chainrule's Values: modules, losses, optimizers, data and training.

>>> from chainrule import nn
>>> model = nn.tutorial_network(seed=1)           # 3 -> 4 sigmoid -> 1 sigmoid, no biases
>>> X, y = nn.data.tutorial()
>>> history = nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
...                  epochs=1500, progress=False)
>>> nn.predict(model, X).round().tolist()
[0.0, 1.0, 1.0, 0.0]
"""

from . import data, init, losses, optim
from .losses import (
    LOSSES,
    binary_cross_entropy,
    hinge,
    l2_penalty,
    mse,
    softmax,
    softmax_cross_entropy,
    sum_of_squares,
)
from .modules import ACTIVATIONS, MLP, Layer, Module, Neuron, tutorial_network
from .optim import SGD, Adam, Optimizer
from .torch_bridge import from_torch, to_torch
from .train import History, Recorder, Snapshot, StepInfo, fit, predict

__all__ = [
    "Module", "Neuron", "Layer", "MLP", "tutorial_network", "ACTIVATIONS",
    "sum_of_squares", "mse", "binary_cross_entropy", "hinge", "softmax_cross_entropy", "softmax",
    "l2_penalty", "LOSSES", "Optimizer", "SGD", "Adam", "fit", "predict", "History", "StepInfo",
    "Snapshot", "Recorder",
    "data", "init", "losses", "optim", "to_torch", "from_torch",
]
