"""``draw_network``: a model as neurons and weights, the picture of ∂loss/∂w an optimizer uses.

Neurons are circles in layer columns (inputs, hidden layers, outputs), one edge per weight,
each neuron showing its bias. Edges are coloured and sized by the weight or by its gradient
and labelled with both: ``w`` and ``∂loss/∂w``, the parameter's ``.grad`` as ``backward()``
left it, which is the sum over every sample in the batch: the number the optimizer steps
by. The picture has one node per neuron whatever the batch size. Given ``sample``, the
graph of one sample's loss, the same picture shows that sample instead: each neuron's value
on it, and each weight's own contribution ∂loss_sample/∂w (a fresh backward pass replayed
from that root; no ``.grad`` is touched).

The structure comes from nn's parameter names alone (``<layer>.neurons.<k>.w.<i>``,
``<layer>.neurons.<k>.b``, read in :mod:`viz.names`), so any Module whose parameters carry
those names can be drawn.
"""

from __future__ import annotations

from chainrule.autograd import Value

from .checks import check_flag, check_text
from .escape import dot_quote, html_label, label_text, record_text
from .names import is_bias, layer_of, module_of, weight_index
from .render import Graph
from .style import contribution_colour, contribution_width, fmt, largest
from .trace import cell_id, column_id, input_id, trace, weight_id, weight_label_id

__all__ = ["draw_network", "Network", "network_of"]

BY = ("grad", "weight")


class Network:
    """The neurons of a model by layer, read from its parameters' names."""

    def __init__(self, layers: list[list[str]], weights: dict[str, list[Value]],
                 biases: dict[str, Value | None], nin: int, activations: dict[str, str]) -> None:
        self.layers = layers            # neuron names, per layer, in order
        self.weights = weights          # neuron -> its weights by input index
        self.biases = biases            # neuron -> its bias (None without one)
        self.nin = nin                  # inputs of the first layer
        self.activations = activations  # neuron -> activation name, when the model says


def _key(name: str) -> tuple:
    """Sort key for dotted names: numbers as numbers (neurons.10 after neurons.9)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in name.split("."))


def network_of(model: object) -> Network:
    """The layers of ``model`` (anything with ``parameters()`` named as nn names them)."""
    params = getattr(model, "parameters", None)
    if not callable(params):
        raise TypeError(f"draw_network(model): model must be an nn Module such as nn.MLP, "
                        f"got {type(model).__name__}")
    weights: dict[str, dict[int, Value]] = {}
    biases: dict[str, Value | None] = {}
    for k, p in enumerate(params()):
        if not isinstance(p, Value):
            raise TypeError(f"draw_network(model): parameter {k} is a {type(p).__name__}, not a Value")
        neuron = module_of(p.label)
        if neuron is None or layer_of(neuron) is None:
            raise ValueError(f"draw_network(model): parameter {k} is labelled {p.label!r}, not as nn "
                             f"names a neuron's parameters ('<layer>.neurons.<k>.w.<i>' or '....b')")
        i = weight_index(p.label)
        if i is not None:
            weights.setdefault(neuron, {})[i] = p
        elif is_bias(p.label):
            biases[neuron] = p
            weights.setdefault(neuron, {})
    if not weights:
        raise ValueError("draw_network(model): the model has no parameters to draw")
    by_layer: dict[str, list[str]] = {}
    for neuron in sorted(weights, key=_key):
        by_layer.setdefault(layer_of(neuron), []).append(neuron)
    layers = [by_layer[name] for name in sorted(by_layer, key=_key)]
    sizes = [len(layer) for layer in layers]
    flat: dict[str, list[Value]] = {}
    for li, layer in enumerate(layers):
        for neuron in layer:
            ws = weights[neuron]
            if sorted(ws) != list(range(len(ws))):
                raise ValueError(f"draw_network(model): neuron {neuron!r} has weights {sorted(ws)}, "
                                 f"not 0..{len(ws) - 1}")
            if li > 0 and len(ws) != sizes[li - 1]:
                raise ValueError(f"draw_network(model): neuron {neuron!r} has {len(ws)} weights but "
                                 f"the layer before has {sizes[li - 1]} neurons")
            flat[neuron] = [ws[i] for i in range(len(ws))]
    nin = len(flat[layers[0][0]])
    if any(len(flat[n]) != nin for n in layers[0]):
        raise ValueError("draw_network(model): the first layer's neurons read different numbers of inputs")
    activations = {}
    for name, module in getattr(model, "named_modules", lambda: [])():
        act = getattr(module, "activation", None)
        if isinstance(act, str) and name in flat:
            activations[name] = act
    return Network(layers, flat, {n: biases.get(n) for n in flat}, nin, activations)


MAX_LABELLED = 60  # weights; past this edges carry their numbers as tooltips only
COMPACT = 8        # neurons in a layer; past this a neuron's circle shows only its name
PT = 72.0          # neato reads pinned positions in inches


def draw_network(model: object, *, by: str = "grad", sample: Value | None = None,
                 edge_labels: bool | None = None, format: str = "svg") -> Graph:
    """``model`` as neurons in layer columns and one edge per weight (see the module docstring).

    ``by``: ``"grad"`` colours and sizes each edge by ∂loss/∂w (blue positive, orange
    negative, width by size), ``"weight"`` by the weight itself. ``sample``: the root of one
    sample's loss; the picture then shows that sample's neuron values and its own ∂loss/∂w.
    ``edge_labels``: write w and ∂loss/∂w beside each edge (default: when the model has at
    most 60 weights); every edge and neuron also carries its numbers as a tooltip. Positions
    are computed here and pinned (Graphviz's ``neato``), so labels sit on their own edges.
    Returns a ``graphviz.Digraph`` (inline in Jupyter).
    """
    check_text(by, "by", "draw_network")
    if by not in BY:
        raise ValueError(f"draw_network(by={by!r}): by must be one of {', '.join(map(repr, BY))}")
    check_flag(edge_labels, "edge_labels", "draw_network", none=True)
    check_text(format, "format", "draw_network")
    if sample is not None and not isinstance(sample, Value):
        raise TypeError(f"draw_network(sample=...): sample must be the Value of one sample's loss, "
                        f"got {type(sample).__name__}")
    net = network_of(model)
    grad, values, root_name = _grads(net, sample)
    params = [p for ws in net.weights.values() for p in ws] + [b for b in net.biases.values() if b]
    n_weights = sum(len(ws) for ws in net.weights.values())
    labels = n_weights <= MAX_LABELLED if edge_labels is None else edge_labels
    ran = sample is not None or any(p.grad != 0 for p in params)
    measure = (lambda p: grad[p]) if by == "grad" else (lambda p: p.data)
    big = largest(measure(p) for p in params) if (ran or by == "weight") else 0.0
    d = "∂" + (root_name or "loss")
    g = Graph(name="network", format=format, engine="neato",
              graph_attr={"splines": "line", "overlap": "true", "outputorder": "edgesfirst",
                          "fontname": "Helvetica"},
              node_attr={"fontname": "Helvetica", "fontsize": "11"},
              edge_attr={"fontname": "Helvetica", "arrowsize": "0.5"})
    columns = [[input_id(i) for i in range(net.nin)]] + [
        [cell_id(li, k) for k in range(len(layer))] for li, layer in enumerate(net.layers)]
    sizes = [len(c) for c in columns]
    gap = 44.0 if max(sizes) > COMPACT else 100.0
    widths = [0.0] + [max(320.0, 150.0 * sizes[c - 1]) if labels else 200.0
                      for c in range(1, len(columns))]
    xs = [sum(widths[:c + 1]) for c in range(len(columns))]
    top = (max(sizes) - 1) / 2 * gap
    pos = {}
    for c, col in enumerate(columns):
        for k, node in enumerate(col):
            pos[node] = (xs[c], (len(col) - 1) / 2 * gap - k * gap)
    pin = lambda x, y: f'pos="{x / PT:.3f},{y / PT:.3f}!"'  # noqa: E731 - one short local helper
    for c, head in enumerate(["inputs"] + [f"hidden layer {li + 1}" for li in range(len(net.layers) - 1)]
                             + ["output layer"]):
        g.body.append(f'\t{column_id(c)} [id="{column_id(c)}" shape=plain fontsize=12 fontcolor="#606060" '
                      f'label={dot_quote(record_text(head))} {pin(xs[c], top + 0.75 * gap)}]\n')
    for i in range(net.nin):
        g.body.append(f'\t{input_id(i)} [id="{input_id(i)}" label="x{i}" shape=circle style=filled '
                      f'fillcolor="#DDEEFF" {pin(*pos[input_id(i)])}]\n')
    for li, layer in enumerate(net.layers):
        for k, neuron in enumerate(layer):
            rows = [f"n{k}"]
            act = net.activations.get(neuron)
            b = net.biases[neuron]
            tip = [neuron] + ([act] if act else [])
            if act:
                rows.append(act)
            if b is not None:
                rows.append(f"b {fmt(b.data, 3)}")
                tip.append(f"b = {fmt(b.data)}")
                if ran:
                    rows.append(f"{d}/∂b {fmt(grad[b], 3)}")
                    tip.append(f"{d}/∂b = {fmt(grad[b])}")
            if neuron in values:
                rows.append(f"value {fmt(values[neuron], 3)}")
                tip.append(f"value = {fmt(values[neuron])}")
            if len(layer) > COMPACT:
                rows = rows[:1]
            text = "<BR/>".join([f"<B>{label_text(rows[0])}</B>"] + [label_text(r) for r in rows[1:]])
            cell = cell_id(li, k)
            g.body.append(f'\t{cell} [id="{cell}" label={html_label(text)} '
                          f'tooltip={dot_quote(record_text(", ".join(tip)))} shape=circle style=filled '
                          f'fillcolor="#EEF5E8" margin=0.02 {pin(*pos[cell])}]\n')
    for li, layer in enumerate(net.layers):
        n_in = sizes[li]
        for k, neuron in enumerate(layer):
            for i, w in enumerate(net.weights[neuron]):
                src = columns[li][i]
                head = cell_id(li, k)
                text = f"w {fmt(w.data, 3)}" + (f"\n{d}/∂w {fmt(grad[w], 3)}" if ran else "")
                shown = measure(w) if (ran or by == "weight") else None
                tip = record_text(f"w = {fmt(w.data, 6)}" + (f", {d}/∂w = {fmt(grad[w], 6)}" if ran else ""))
                eid = weight_id(li, k, i)
                g.body.append(f'\t{src} -> {head} [id="{eid}" color="{contribution_colour(shown)}" '
                              f'penwidth={contribution_width(shown, big)} tooltip={dot_quote(tip)}]\n')
                if labels:
                    # along the edge at a fraction set by the input, so labels from one input
                    # stand in one column and labels into one neuron are spread along its edges
                    t = 0.3 + 0.45 * (i / (n_in - 1) if n_in > 1 else 0.5)
                    (x0, y0), (x1, y1) = pos[src], pos[head]
                    at = pin(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
                    lid = weight_label_id(li, k, i)
                    g.body.append(f'\t{lid} [id="{lid}" shape=plain fontsize=9 fontcolor="#303030" '
                                  f'label={html_label(label_text(text))} {at}]\n')
    what = ("one sample: its neuron values and its own " if sample is not None else
            "summed over the batch (the parameters' .grad): ") + f"{d}/∂w"
    if not ran:
        what = "backward() has not run: weights only"
    colour = "edge colour and width: " + (f"{d}/∂w" if by == "grad" else "the weight")
    more = "" if labels else f"; {n_weights} weights: hover an edge for w and {d}/∂w"
    note = dot_quote(record_text(what + "; " + colour + more, 2000))
    g.body.append(f"\tlabel={note} labelloc=t fontsize=12\n")
    return g


def _grads(net: Network, sample: Value | None) -> tuple[dict[Value, float], dict[str, float], str | None]:
    """Each parameter's ∂loss/∂p to show, each neuron's value on the sample, the root's name."""
    params = [p for ws in net.weights.values() for p in ws] + [b for b in net.biases.values() if b]
    if sample is None:
        return {p: p.grad for p in params}, {}, None
    t = trace(sample)
    values = {}
    for c in t.clusters:
        if c.name in net.weights:
            values[c.name] = t.values[c.output].data
    grad = {p: (t.grads[t.index[p]] if p in t.index else 0.0) for p in params}
    return grad, values, t.names[t.root]
