"""Neuron, Layer and MLP: modules that build a graph of Values each time they are called.

Names. A root module's ``name`` is its own (``'mlp'``, ``'layer'``, ``'neuron'`` or what
the user gave); every module inside it is named by its path from the root, e.g.
``layers.0.neurons.3``. Each parameter's ``label`` is its owner's name and its own
(``layers.0.neurons.3.w.1``, ``layers.0.neurons.3.b``): inside a Layer or MLP that is its path,
the same string as its ``state_dict`` key; a root Neuron's are ``neuron.w.0``, ..., while its
keys are ``w.0``, .... Each call labels a neuron's output node with the neuron's name, so a
drawn graph can be read against the model, and the output's label prefixes its parameters'.

Inputs. A model is called on a list, tuple or 1-D numpy array of numbers or Values with
exactly ``nin`` entries. Numbers become new leaf Values labelled ``x.<i>``, one per input
shared by every neuron of the first layer (not one constant per multiplication).

Outputs. ``Neuron`` returns a Value; ``Layer`` always returns a list, even of one Value, so a
1-neuron hidden layer composes; ``MLP`` returns a bare Value when its last layer has one
neuron (as micrograd does, so ``(model(x) - y) ** 2`` works) and a list otherwise.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from chainrule.autograd import Outputs, Value

from . import serialization
from .init import Init, check_scheme, draw, module_rng

__all__ = ["ACTIVATIONS", "Module", "Neuron", "Layer", "MLP", "tutorial_network", "as_inputs"]

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "linear": None,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "leaky_relu": lambda v: v.leaky_relu(0.01),
    "softplus": Value.softplus,
}
"""Activation by name; ``linear`` is the identity, so the neuron's output is its sum."""


def _check_activation(activation: Any, where: str) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        choices = ", ".join(ACTIVATIONS)
        raise ValueError(f"{where}: unknown activation {activation!r}; choose one of {choices}")
    return activation


def _check_size(n: Any, what: str, where: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{where}: {what} must be an int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{where}: {what} must be at least 1, got {n}")
    return int(n)


def _check_flag(flag: Any, what: str, where: str) -> bool:
    if not isinstance(flag, bool):
        raise TypeError(f"{where}: {what} must be True or False, got {type(flag).__name__}: {flag!r}")
    return flag


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{where}: name must be a non-empty str, got {name!r}")
    return name


def as_inputs(x: Any, nin: int, where: str) -> list[Value]:
    """``x`` as a list of ``nin`` Values; numbers become leaves labelled ``x.<i>``.

    Raises TypeError for anything but a list, tuple or 1-D array of real numbers and Values,
    and ValueError naming both sizes when ``x`` does not have exactly ``nin`` entries.
    """
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(
                f"{where}: expected one sample, a 1-D input of {nin} numbers, got an array of shape "
                f"{x.shape} (for a batch of samples use nn.predict)"
            )
        items: Sequence[Any] = x.tolist() if x.dtype.kind in "iuf" else list(x)
    elif isinstance(x, (list, tuple)):
        items = x
    else:
        raise TypeError(
            f"{where}: expected a list, tuple or 1-D numpy array of {nin} numbers or Values, "
            f"got {type(x).__name__}"
        )
    if len(items) != nin:
        raise ValueError(f"{where}: expected {nin} inputs, got {len(items)}")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, Value):
            out.append(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool):
            f = float(v)
            if not math.isfinite(f):
                raise ValueError(f"{where}: input {i} is {f!r}; inputs must be finite")
            out.append(Value(f, label=f"x.{i}"))
        else:
            raise TypeError(f"{where}: input {i} is {type(v).__name__} ({v!r}), not a number or a Value")
    return out


class Module:
    """A piece of a model: it owns parameters and child modules, each with a stable name.

    Subclasses declare what they own through ``_own_parameters`` and ``_children``, and
    everything else is derived from those. A micrograd-style subclass that only overrides
    ``parameters()`` works too: its parameters are then named by position (``"0"``, ``"1"``,
    ...) so ``state_dict``/``save``/``load`` round-trip, and its ``name`` defaults to its class
    name.
    """

    @property
    def name(self) -> str:
        """This module's name: its path from the root, or the root's own name; else its class name."""
        # A subclass need not call Module.__init__ (micrograd's has none), so there may be no name.
        return self.__dict__.get("_name") or type(self).__name__

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_name"] = value

    # Subclasses list what they own; everything else is derived from these two.
    def _children(self) -> list[tuple[str, Module]]:
        return []

    def _own_parameters(self) -> list[tuple[str, Value]]:
        return []

    def _assign_names(self, root_name: str, path: str = "") -> None:
        """Name this module and its subtree by path from the root; label the parameters."""
        self.name = path or root_name
        # Labels start with the owner's name, so a neuron's output label prefixes its
        # parameters' labels even for a root neuron ('neuron' and 'neuron.w.0').
        for local, p in self._own_parameters():
            p.label = f"{self.name}.{local}"
        prefix = f"{path}." if path else ""
        for local, child in self._children():
            child._assign_names(root_name, prefix + local)

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module and every module inside it, parents first.

        "Inside" means declared by ``_children``; modules merely held in attributes are not found.
        """
        stack: list[Module] = [self]
        while stack:
            m = stack.pop()
            yield m.name, m
            stack.extend(child for _, child in reversed(m._children()))

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(name, parameter)`` in a fixed order: layer by layer, neuron by neuron, w.0.. then b.

        When a subclass overrides ``parameters()`` to list a Value the structure does not name
        (micrograd style), every parameter is instead named by its index in ``parameters()``.
        """
        named = self._structured()
        if type(self).parameters is Module.parameters:
            return named
        listed = self.parameters()
        for i, p in enumerate(listed):
            if not isinstance(p, Value):
                raise TypeError(f"{self.name}.parameters(): item {i} is {type(p).__name__}, not a Value")
        known = {id(p) for _, p in named}
        if len(listed) > len(named) or any(id(p) not in known for p in listed):
            # Names by index are stable as long as parameters() keeps its order, which training
            # code written for micrograd relies on already.
            return [(str(i), p) for i, p in enumerate(listed)]
        return named

    def _structured(self) -> list[tuple[str, Value]]:
        """The parameters named by ``_own_parameters`` and ``_children``, recursively."""
        out: list[tuple[str, Value]] = []
        self._collect(out, "")
        return out

    def _collect(self, out: list[tuple[str, Value]], prefix: str) -> None:
        out.extend((prefix + local, p) for local, p in self._own_parameters())
        for local, child in self._children():
            child._collect(out, f"{prefix}{local}.")

    def parameters(self) -> list[Value]:
        """Every trainable Value, in the order of ``named_parameters()``."""
        # From the structure, not named_parameters(): an override that calls super().parameters()
        # must not recurse back into itself.
        return [p for _, p in self._structured()]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaves accumulate across ``backward()`` calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """``{parameter name: value}``, plain floats, in parameter order."""
        return serialization.state_dict(self)

    def load_state_dict(self, state: Any) -> None:
        """Set every parameter from ``state``; on any problem raise and change nothing."""
        serialization.load_state_dict(self, state)

    def save(self, path: Any) -> None:
        """Write the parameters to ``path`` as chainrule JSON."""
        serialization.save(self, path)

    def load(self, path: Any, *, max_bytes: int = serialization.MAX_BYTES) -> None:
        """Read parameters saved by ``save`` (a regular file of at most ``max_bytes``, 64 MiB by
        default); on any problem raise and change nothing."""
        serialization.load(self, path, max_bytes=max_bytes)

    def __repr__(self) -> str:
        # Saved files record the repr, so it must not be object.__repr__'s memory address.
        return f"{type(self).__name__}({len(self.parameters())} parameters)"


class Neuron(Module):
    """``activation(w.0*x.0 + w.1*x.1 + ... + b)``, summed left to right, bias last.

    ``weights`` sets the initial weights directly; otherwise they are drawn by ``init``
    from ``seed``: an int or a RandomState, or ``None`` for the next draws of ``nn.init``'s
    shared stream, so that neurons built one after another differ. The bias starts at 0.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        bias: bool = True,
        init: Init = "uniform",
        seed: int | np.random.RandomState | None = None,
        weights: Sequence[float] | np.ndarray | None = None,
        name: str = "neuron",
        nonlin: bool | None = None,
    ) -> None:
        where = "Neuron"
        self.nin = _check_size(nin, "nin", where)
        self.activation = _check_activation(_from_nonlin(activation, nonlin, where), where)
        _check_flag(bias, "bias", where)
        check_scheme(init, where)
        if weights is None:
            weights = draw(init, module_rng(seed, where), self.nin, 1, where)[:, 0]
        self.w = [Value(x) for x in _check_weights(weights, self.nin, where)]
        self.b = Value(0.0) if bias else None
        self._fn = ACTIVATIONS[self.activation]
        self._assign_names(_check_name(name, where))

    def _own_parameters(self) -> list[tuple[str, Value]]:
        named = [(f"w.{i}", w) for i, w in enumerate(self.w)]
        if self.b is not None:
            named.append(("b", self.b))
        return named

    def __call__(self, x: Any) -> Value:
        """The neuron's output Value for one sample ``x`` of ``nin`` numbers or Values."""
        return self._forward(as_inputs(x, self.nin, f"{self.name} (Neuron)"))

    def _forward(self, xs: list[Value]) -> Value:
        pairs = zip(self.w, xs)
        w, x = next(pairs)
        # Start from the first product, not 0, so the graph has no constant-0 node.
        act = w * x
        for w, x in pairs:
            act = act + w * x
        if self.b is not None:
            act = act + self.b
        if self._fn is not None:
            act = self._fn(act)
        act.label = self.name
        return act

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, {self.activation}{'' if self.b is not None else ', no bias'})"


def _from_nonlin(activation: str, nonlin: bool | None, where: str) -> str:
    """micrograd's ``nonlin=True/False`` is relu/linear; it may not contradict ``activation``."""
    if nonlin is None:
        return activation
    if not isinstance(nonlin, bool):
        raise TypeError(f"{where}: nonlin must be True or False (micrograd's flag), got {nonlin!r}")
    wanted = "relu" if nonlin else "linear"
    if activation not in ("relu", wanted):
        raise ValueError(f"{where}: nonlin={nonlin} means {wanted!r}, but activation={activation!r}")
    return wanted


def _check_weights(weights: Any, nin: int, where: str) -> list[float]:
    arr = np.asarray(weights)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{where}: weights must be real numbers, got dtype {arr.dtype}")
    if arr.shape != (nin,):
        raise ValueError(f"{where}: expected {nin} weights, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: weights must be finite, got {arr.tolist()}")
    return [float(v) for v in arr.tolist()]


class Layer(Module):
    """``nout`` neurons that each see all ``nin`` inputs; called, it returns a list of Values.

    The initial weights are one ``(nin, nout)`` matrix ``W`` drawn by ``init``, with
    ``W[i, j]`` the weight from input ``i`` to neuron ``j`` (neuron j's ``w.i``), from ``seed``
    as for ``Neuron`` (``None``: ``nn.init``'s shared stream).
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        bias: bool = True,
        init: Init = "uniform",
        seed: int | np.random.RandomState | None = None,
        name: str = "layer",
        nonlin: bool | None = None,
    ) -> None:
        where = "Layer"
        self.nin = _check_size(nin, "nin", where)
        self.nout = _check_size(nout, "nout", where)
        self.activation = _check_activation(_from_nonlin(activation, nonlin, where), where)
        self.bias = _check_flag(bias, "bias", where)
        weights = draw(init, module_rng(seed, where), self.nin, self.nout, where)
        self.neurons = [
            Neuron(self.nin, self.activation, bias, weights=weights[:, j]) for j in range(self.nout)
        ]
        self._assign_names(_check_name(name, where))

    def _children(self) -> list[tuple[str, Module]]:
        return [(f"neurons.{j}", n) for j, n in enumerate(self.neurons)]

    def __call__(self, x: Any) -> list[Value]:
        """One output Value per neuron (a list even when ``nout`` is 1)."""
        return self._forward(as_inputs(x, self.nin, f"{self.name} (Layer)"))

    def _forward(self, xs: list[Value]) -> list[Value]:
        # A list whose .backward() explains that backward needs one Value (a loss).
        return Outputs(n._forward(xs) for n in self.neurons)

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {self.nout}, {self.activation}{'' if self.bias else ', no bias'})"


class MLP(Module):
    """Layers of sizes ``nouts`` on ``nin`` inputs: ``activation`` between, ``output_activation`` last.

    The defaults are micrograd's MLP: relu hidden layers, a linear output, biases, weights
    uniform on [-1, 1). Layers draw their weights in order from one RandomState(``seed``), or
    with ``seed=None`` from ``nn.init``'s shared stream (see ``Neuron``).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        bias: bool = True,
        init: Init = "uniform",
        seed: int | np.random.RandomState | None = None,
        name: str = "mlp",
    ) -> None:
        where = "MLP"
        self.nin = _check_size(nin, "nin", where)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, (Sequence, np.ndarray)):
            raise TypeError(f"{where}: nouts must be a list of layer sizes, got {type(nouts).__name__}")
        if len(nouts) == 0:
            raise ValueError(f"{where}: nouts must list at least one layer size")
        sizes = [_check_size(n, f"nouts[{i}]", where) for i, n in enumerate(nouts)]
        _check_activation(activation, f"{where} activation")
        _check_activation(output_activation, f"{where} output_activation")
        _check_flag(bias, "bias", where)
        check_scheme(init, where)
        rng = module_rng(seed, where)
        ins = [self.nin] + sizes[:-1]
        last = len(sizes) - 1
        self.layers = [
            Layer(n_in, n_out, output_activation if i == last else activation, bias, init, rng)
            for i, (n_in, n_out) in enumerate(zip(ins, sizes))
        ]
        self.nout = sizes[-1]
        self._assign_names(_check_name(name, where))

    def _children(self) -> list[tuple[str, Module]]:
        return [(f"layers.{i}", layer) for i, layer in enumerate(self.layers)]

    def __call__(self, x: Any) -> Value | list[Value]:
        """The output for one sample: a Value if the last layer has one neuron, else a list."""
        return self._forward(as_inputs(x, self.nin, f"{self.name} (MLP)"))

    def _forward(self, xs: list[Value]) -> Value | list[Value]:
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if self.nout == 1 else xs

    def __repr__(self) -> str:
        arch = " -> ".join([str(self.nin)] + [f"{la.nout} {la.activation}" for la in self.layers])
        return f"MLP({arch}{'' if self.layers[0].bias else ', no bias'})"


def tutorial_network(seed: int = 1) -> MLP:
    """The tutorial's 3 -> 4 sigmoid -> 1 sigmoid network, without biases.

    Its weights are those of ``np.random.seed(seed); weights1 = np.random.rand(3, 4);
    weights2 = np.random.rand(4, 1)``: hidden neuron j's ``w.i`` is ``weights1[i, j]``
    (input i to neuron j) and the output neuron's ``w.j`` is ``weights2[j, 0]``.
    """
    return MLP(3, [4, 1], activation="sigmoid", output_activation="sigmoid", bias=False,
               init="uniform01", seed=seed)
