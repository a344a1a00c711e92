"""Finding ``nn`` modules in a bare graph, from labels alone.

``nn`` labels every parameter with its qualified name (``layers.0.neurons.3.w.1``) and each
neuron call's output with the neuron's name (``layers.0.neurons.3``). A non-leaf node whose
label ``L`` prefixes (as ``L + "."``) a parameter label in its backward cone is therefore a
module output. Its cluster is that cone, stopped at other module outputs and at leaves whose
labels do not start with ``L + "."`` (the inputs); constants inside belong to the cluster.
Each call is its own cluster. Neuron clusters named ``<layer>.neurons.<k>`` that read the
same inputs form one call of the layer ``<layer>`` (a Layer used on its own names its
neurons ``neurons.<k>``: that layer is called ``layer``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autograd import Value

__all__ = ["Cluster", "LayerCall", "find_clusters", "layer_calls"]


@dataclass
class Cluster:
    """One module call: its output node, the nodes inside and the operands read from outside."""

    name: str
    output: int                                 # topo index of the module's output
    members: list[int] = field(default_factory=list)   # topo indices, output included, sorted
    inputs: list[int] = field(default_factory=list)    # outside operands, sorted
    params: list[int] = field(default_factory=list)    # parameter leaves inside, sorted


@dataclass
class LayerCall:
    """One call of a layer: the neuron clusters that share the same inputs."""

    name: str
    clusters: list[int]  # positions in the cluster list


def _cone(nodes: list[Value], index: dict[Value, int], out: int, stops: set[int]) -> Cluster:
    prefix = nodes[out].label + "."
    c = Cluster(nodes[out].label, out)
    seen = {out}
    stack = [out]
    inputs: set[int] = set()
    while stack:
        i = stack.pop()
        c.members.append(i)
        v = nodes[i]
        if v.is_leaf and not v.is_constant:
            c.params.append(i)
        for child in v._prev:
            j = index[child]
            if j in seen:
                continue
            w = nodes[j]
            outside = j in stops or (w.is_leaf and not w.is_constant and not w.label.startswith(prefix))
            if outside:
                inputs.add(j)
                continue
            seen.add(j)
            stack.append(j)
    c.members.sort()
    c.params.sort()
    c.inputs = sorted(inputs)
    return c


def find_clusters(nodes: list[Value]) -> list[Cluster]:
    """The module calls in ``nodes`` (a topological order), ordered by their output's index."""
    index = {v: i for i, v in enumerate(nodes)}
    prefixes: set[str] = set()
    for v in nodes:
        if v.is_leaf and "." in v.label:
            parts = v.label.split(".")
            prefixes.update(".".join(parts[:k]) for k in range(1, len(parts)))
    prefixes.discard("")
    candidates = {i for i, v in enumerate(nodes) if not v.is_leaf and v.label and v.label in prefixes}
    # A candidate is real when its cone (stopped at the other candidates) holds one of its
    # parameters; the cones are then recomputed stopping only at the real ones.
    real = {i for i in candidates if _cone(nodes, index, i, candidates - {i}).params}
    clusters = []
    taken: set[int] = set()
    for i in sorted(real):
        c = _cone(nodes, index, i, real - {i})
        c.members = [j for j in c.members if j not in taken]
        taken.update(c.members)
        clusters.append(c)
    return clusters


_NEURON = re.compile(r"^(?:(.*)\.)?neurons\.\d+$")


def layer_calls(nodes: list[Value], clusters: list[Cluster]) -> list[LayerCall]:
    """Neuron clusters grouped into layer calls: same layer name and the same inputs.

    A neuron fed plain numbers has no outside inputs (they are constants inside it), so
    then the neurons that feed the same consumers form the call.
    """
    index = {v: i for i, v in enumerate(nodes)}
    owner = {j: k for k, c in enumerate(clusters) for j in c.members}
    consumers: dict[int, set] = {}
    outputs = {c.output: k for k, c in enumerate(clusters)}
    for i, v in enumerate(nodes):
        for child in v._prev:
            j = index[child]
            if j in outputs and owner.get(i) != outputs[j]:
                consumers.setdefault(outputs[j], set()).add(owner.get(i, -1 - i))
    groups: dict[tuple, LayerCall] = {}
    for k, c in enumerate(clusters):
        m = _NEURON.match(c.name)
        if not m:
            continue
        layer = m.group(1) or "layer"  # a Layer used on its own names its neurons neurons.<k>
        key = (layer, tuple(c.inputs) or tuple(sorted(consumers.get(k, ()))) or (k,))
        groups.setdefault(key, LayerCall(layer, [])).clusters.append(k)
    return list(groups.values())
