"""Finding nn modules from labels alone: cluster members, inputs and layer calls."""

from test_viz_support import tutorial_by_hand

from chainrule import nn
from chainrule.autograd import Value, topo_order
from chainrule.viz.clusters import find_clusters, layer_calls


def names_of(nodes, idx):
    return sorted(nodes[i].label or nodes[i]._op or repr(nodes[i].data) for i in idx)


def test_tutorial_clusters_members_and_inputs():
    out, xs, hidden = tutorial_by_hand()
    loss = (out - 1.0) ** 2
    nodes = topo_order(loss)
    clusters = find_clusters(nodes)
    assert [c.name for c in clusters] == [f"layers.0.neurons.{j}" for j in range(4)] + ["layers.1.neurons.0"]
    for j, c in enumerate(clusters[:4]):
        assert nodes[c.output] is hidden[j]
        assert [nodes[i] for i in c.inputs] == xs
        assert names_of(nodes, c.params) == [f"layers.0.neurons.{j}.w.{i}" for i in range(3)]
        # 3 weights, 3 products, 2 sums, the sigmoid: the whole neuron and nothing else
        assert len(c.members) == 9 and all(nodes[i] not in xs for i in c.members)
    last = clusters[4]
    assert [nodes[i] for i in last.inputs] == hidden
    # the loss is outside every module, and so is its constant 1.0
    inside = {i for c in clusters for i in c.members}
    assert nodes.index(loss) not in inside and nodes.index(loss._prev[0]) not in inside
    calls = layer_calls(nodes, clusters)
    assert [(call.name, call.clusters) for call in calls] == [("layers.0", [0, 1, 2, 3]), ("layers.1", [4])]


def test_labelled_nodes_without_parameters_are_not_modules():
    x = Value(1.0, label="x")
    w = Value(2.0, label="net.w.0")
    h = x * w
    h.label = "hidden"  # labelled, but no parameter is named hidden.*
    out = (h + 1).tanh()
    out.label = "net"
    nodes = topo_order(out)
    clusters = find_clusters(nodes)
    assert [c.name for c in clusters] == ["net"]
    assert names_of(nodes, clusters[0].members) == sorted(["+", "1.0", "hidden", "net", "net.w.0"])
    assert [nodes[i] for i in clusters[0].inputs] == [x]


def test_two_calls_with_constant_inputs_form_two_layer_calls():
    ws = [[Value(0.5, label=f"layers.0.neurons.{j}.w.{i}") for i in range(2)] for j in range(2)]

    def layer(x):
        outs = []
        for j in range(2):
            h = (ws[j][0] * x[0] + ws[j][1] * x[1]).relu()
            h.label = f"layers.0.neurons.{j}"
            outs.append(h)
        return outs

    a, b = layer([1.0, 2.0]), layer([3.0, 4.0])  # plain numbers: constants inside each neuron
    total = (a[0] + a[1]) * (b[0] + b[1])
    nodes = topo_order(total)
    clusters = find_clusters(nodes)
    assert len(clusters) == 4 and all(c.inputs == [] for c in clusters)
    calls = layer_calls(nodes, clusters)
    groups = sorted(sorted(nodes[clusters[k].output] for k in call.clusters) for call in calls)
    assert groups == sorted([sorted(a), sorted(b)])


def test_real_mlp_one_cluster_per_neuron_call():
    model = nn.MLP(3, [4, 2], seed=1)
    outs = model([1.0, -1.0, 0.5]) + model([0.0, 2.0, -0.5])
    total = outs[0] + outs[1] + outs[2] + outs[3]
    nodes = topo_order(total)
    clusters = find_clusters(nodes)
    assert len(clusters) == 2 * (4 + 2)
    params = {p: name for name, p in model.named_parameters()}
    for c in clusters:
        for i in c.params:
            assert params[nodes[i]].startswith(c.name + ".")
    calls = layer_calls(nodes, clusters)
    assert sorted((call.name, len(call.clusters)) for call in calls) == [
        ("layers.0", 4), ("layers.0", 4), ("layers.1", 2), ("layers.1", 2)]


def test_standalone_neuron_and_layer():
    neuron = nn.Neuron(2, activation="tanh", seed=0)
    out = neuron([1.0, 2.0])
    nodes = topo_order(out)
    (c,) = find_clusters(nodes)
    assert c.name == "neuron" and names_of(nodes, c.params) == ["neuron.b", "neuron.w.0", "neuron.w.1"]
    layer = nn.Layer(2, 3, seed=0)
    outs = layer([1.0, 2.0])
    total = outs[0] + outs[1] + outs[2]
    nodes = topo_order(total)
    clusters = find_clusters(nodes)
    assert [c.name for c in clusters] == ["neurons.0", "neurons.1", "neurons.2"]
    assert [(call.name, call.clusters) for call in layer_calls(nodes, clusters)] == [("layer", [0, 1, 2])]


def test_parameter_naming_rule():
    from chainrule.viz.names import looks_like_parameter

    assert looks_like_parameter("layers.0.neurons.3.w.1") and looks_like_parameter("neuron.b")
    assert not any(map(looks_like_parameter, ["b", "w", "w.1", "x.0", "layers.0.neurons.3", "web"]))


def members_by_label(nodes, clusters):
    return [(c.name, [nodes[i].label or nodes[i]._op or repr(nodes[i].data) for i in c.members])
            for c in clusters]


def test_a_relabelled_model_output_keeps_its_cluster():
    # a lecture habit: out = model(x); out.label = 'out'
    model = nn.tutorial_network(1)
    x = [1.0, 0.0, 1.0]
    plain = (model(x) - 1.0) ** 2
    out = model(x)
    out.label = "out"
    loss = (out - 1.0) ** 2
    want = members_by_label(topo_order(plain), find_clusters(topo_order(plain)))
    nodes = topo_order(loss)
    clusters = find_clusters(nodes)
    assert len(clusters) == 5
    assert nodes[clusters[-1].output] is out
    got = [(name, [label.replace("out", "layers.1.neurons.0") for label in labels])
           for name, labels in members_by_label(nodes, clusters)]
    assert got == want  # the same members; the loss (out - 1.0) ** 2 stays outside
    assert [(call.name, call.clusters) for call in layer_calls(nodes, clusters)] == [
        ("layers.0", [0, 1, 2, 3]), ("layers.1", [4])]


def test_unlabelled_outputs_found_layer_by_layer_and_without_activation():
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="linear", seed=3)
    hidden = model.layers[0]([0.5, -1.5])
    for h in hidden:
        h.label = ""  # nothing names any call now, not even the hidden ones
    out = model.layers[1](hidden)
    out = out[0] if isinstance(out, list) else out
    out.label = "prediction"
    loss = (out - 2.0) * (out - 2.0)
    nodes = topo_order(loss)
    clusters = find_clusters(nodes)
    assert [c.name for c in clusters] == [f"layers.0.neurons.{j}" for j in range(3)] + ["layers.1.neurons.0"]
    assert [nodes[c.output] for c in clusters] == hidden + [out]
    # hidden calls end at their tanh; the linear output neuron ends at its sum (+ b)
    assert {nodes[c.output]._op for c in clusters[:3]} == {"tanh"} and out._op == "+"
    assert [nodes[i] for i in clusters[3].inputs] == hidden
    inside = {i for c in clusters for i in c.members}
    assert nodes.index(loss) not in inside and nodes.index(loss._prev[0]) not in inside


def test_activation_ops_match_nn():
    from chainrule.viz.clusters import ACTIVATION_OPS

    made = {fn(Value(0.5))._op for fn in nn.modules.ACTIVATIONS.values() if fn is not None}
    assert made == ACTIVATION_OPS


def test_a_weight_penalty_is_not_taken_for_a_module_call():
    # nn.l2_penalty sums p * p: its first terms hold exactly one neuron's parameters
    model = nn.MLP(2, [3, 1], seed=0)
    out = model([1.0, 2.0])
    out.label = "out"
    loss = (out - 1.0) ** 2 + 0.01 * nn.l2_penalty(model.parameters())
    nodes = topo_order(loss)
    clusters = find_clusters(nodes)
    assert [c.name for c in clusters] == [f"layers.0.neurons.{j}" for j in range(3)] + ["layers.1.neurons.0"]
    assert nodes[clusters[-1].output] is out
    squares = {i for i, v in enumerate(nodes) if v._op == "*" and v._prev[0] is v._prev[1]}
    assert len(squares) == len(model.parameters())
    assert not squares & {i for c in clusters for i in c.members}
