"""Finding ``nn`` modules in a bare graph, from labels alone.

``nn`` labels every parameter with its qualified name (``layers.0.neurons.3.w.1``) and each
neuron call's output with the neuron's name (``layers.0.neurons.3``). A non-leaf node whose
label ``L`` prefixes (as ``L + "."``) a parameter label in its backward cone is therefore a
module output. Its cluster is that cone, stopped at other module outputs and at leaves whose
labels do not start with ``L + "."`` (the inputs); constants inside belong to the cluster.
An output whose label was changed by hand is found from its parameters instead (see
:func:`_unlabelled_outputs`). Each call is its own cluster. Neuron clusters named
``<layer>.neurons.<k>`` that read the same inputs form one call of the layer ``<layer>``
(a Layer used on its own names its neurons ``neurons.<k>``: that layer is called ``layer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chainrule.autograd import Value

from .names import layer_of, module_of

__all__ = ["Cluster", "LayerCall", "candidate_outputs", "find_clusters", "layer_calls"]


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


def _cone(nodes: list[Value], index: dict[Value, int], out: int, stops: set[int],
          name: str | None = None) -> Cluster:
    """Module ``name`` (default: the output's label) called at ``out``: the backward cone,
    stopped at ``stops`` and at leaves whose labels are not ``name.``-prefixed."""
    name = nodes[out].label if name is None else name
    prefix = name + "."
    c = Cluster(name, out)
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


def candidate_outputs(nodes: list[Value]) -> set[int]:
    """The labelled non-leaf nodes of ``nodes`` named as a parameter's module (a label that
    prefixes a leaf's dotted label): the module calls found by label, before their cones are
    checked. One pass over the nodes, so a view can count calls before tracing a graph."""
    prefixes: set[str] = set()
    for v in nodes:
        if v.is_leaf and "." in v.label:
            parts = v.label.split(".")
            prefixes.update(".".join(parts[:k]) for k in range(1, len(parts)))
    prefixes.discard("")
    return {i for i, v in enumerate(nodes) if not v.is_leaf and v.label and v.label in prefixes}


def find_clusters(nodes: list[Value]) -> list[Cluster]:
    """The module calls in ``nodes`` (a topological order), ordered by their output's index."""
    index = {v: i for i, v in enumerate(nodes)}
    candidates = candidate_outputs(nodes)
    # A candidate is real when its cone (stopped at the other candidates) holds one of its
    # parameters; the cones are then recomputed stopping only at the real ones.
    # A cone never reaches its own output again (the graph has no cycles), so the stops may
    # include it: one set for every cone, not a copy per cone (3,300 calls in a batch's graph
    # made those copies a second of draw_graph's time).
    real = {i for i in candidates if _cone(nodes, index, i, candidates).params}
    names = {i: nodes[i].label for i in real}
    inside = {j for i in real for j in _cone(nodes, index, i, real).members}
    names.update(_unlabelled_outputs(nodes, index, set(real), inside))
    clusters = []
    taken: set[int] = set()
    outputs = set(names)
    for i in sorted(names):
        c = _cone(nodes, index, i, outputs, names[i])
        c.members = [j for j in c.members if j not in taken]
        taken.update(c.members)
        clusters.append(c)
    return clusters


# The ops nn applies as a neuron's activation (nn.ACTIVATIONS; a test keeps the two in step).
ACTIVATION_OPS = frozenset({"sigmoid", "tanh", "relu", "leaky_relu", "softplus"})


def _unlabelled_outputs(nodes: list[Value], index: dict[Value, int], outputs: set[int],
                        inside: set[int]) -> dict[int, str]:
    """Module calls whose output does not carry the module's name (``out.label = 'out'``).

    Parameters name their module P (``P.w.0``, ``P.b``), and a call of P combines all of P's
    parameters in one sum, then applies its activation if it has one. So, bottom-up, stopping
    at module outputs already known: the lowest node whose cone holds every parameter of one
    module P and no other module's is that call's sum; the call's output is the activation
    above it when the sum feeds nothing else, else the sum itself. Taking the lowest such
    node, not the topmost, keeps a loss computed from the output (``(out - y) ** 2``, whose
    cone also holds only P's parameters) outside the module. The cone must also read an
    input (a leaf that is no parameter or constant, or another module's output), so a sum of
    parameters alone (a weight penalty) is not taken for a call. Nodes ``inside`` the calls
    found by label are skipped. Returns output -> P.
    """
    owner = {i: module_of(v.label) for i, v in enumerate(nodes) if v.is_leaf and v.label}
    owner = {i: m for i, m in owner.items() if m is not None}
    if not owner:
        return {}
    size: dict[str, int] = {}
    for m in owner.values():
        size[m] = size.get(m, 0) + 1
    users: dict[int, list[int]] = {}
    for i, v in enumerate(nodes):
        for child in v._prev:
            users.setdefault(index[child], []).append(i)
    stops = set(outputs)
    found: dict[int, str] = {}
    below: list[frozenset[int]] = []  # parameters in each node's cone, not through a stop
    reads: list[bool] = []            # whether that cone reads an input (see below)
    for i, v in enumerate(nodes):    # topological order: operands before their users
        if v.is_leaf:
            below.append(frozenset({i}) if i in owner else frozenset())
            reads.append(i not in owner and not v.is_constant)
            continue
        held = frozenset().union(*(below[index[c]] for c in v._prev if index[c] not in stops))
        below.append(held)
        reads.append(any(index[c] in stops or reads[index[c]] for c in v._prev))
        # A call reads an input (a leaf that is no parameter, or another module's output);
        # a sum of parameters alone, such as nn.l2_penalty's sum of p * p, is no call.
        if i in stops or i in inside or not held or not reads[i]:
            continue
        modules = {owner[j] for j in held}
        if len(modules) != 1:
            continue
        (m,) = modules
        lowest = len(held) == size[m] and not any(
            below[index[c]] == held for c in v._prev if index[c] not in stops and not c.is_leaf)
        if not lowest:
            continue
        after = users.get(i, [])
        out = (after[0] if len(after) == 1 and nodes[after[0]]._op in ACTIVATION_OPS
               and after[0] not in stops else i)
        found[out] = m
        stops.add(out)
    return found


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
        layer = layer_of(c.name)
        if layer is None:
            continue
        key = (layer, tuple(c.inputs) or tuple(sorted(consumers.get(k, ()))) or (k,))
        groups.setdefault(key, LayerCall(layer, [])).clusters.append(k)
    return list(groups.values())
