"""viz.explain: one line per edge, arithmetic that checks out, totals equal to the engine's grads."""

import math
import re

import pytest
from test_viz_support import small_expression, tutorial_by_hand

from chainrule.autograd import Value, topo_order
from chainrule.viz import explain
from chainrule.viz.trace import trace

NUM = r"(-?(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|inf|nan))"
LINE = re.compile(
    rf"^(\d+)\. (.+?) = (.+) \| ∂(.+?)/∂(.+?) = (.+?) \| {NUM} × {NUM} = {NUM} \| (.+)\.grad = (.+)$"
)


def close(a: float, b: float, rel: float = 2e-5) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def check_text(root: Value, leaves: dict[str, Value]) -> int:
    """Parse every line of explain(root), redo its arithmetic, compare totals with the engine."""
    text = explain(root)
    lines = text.splitlines()
    assert lines[0].endswith(".grad = 1 (seed)")
    totals: dict[str, float] = {lines[0].split(" = ")[0].split()[-1]: 1.0}
    edges = 0
    for k, line in enumerate(lines[1:-1], 1):
        m = LINE.match(line)
        assert m, line
        assert int(m.group(1)) == k
        node, child = m.group(4), m.group(5)
        local_text = m.group(6).rsplit(" = ", 1)[-1]
        up, local, contrib = float(m.group(7)), float(m.group(8)), float(m.group(9))
        assert close(float(local_text), local)
        # the upstream grad is the node's total, complete before it passes it on
        assert close(up, totals[node]), line
        assert close(up * local, contrib), line
        assert m.group(10) == child
        total = m.group(11)
        if " + " in total:
            before, rest = total.split(" + ", 1)
            added, after = rest.rsplit(" = ", 1)
            assert close(float(before), totals[child]), line
            assert close(float(added), contrib)
            assert close(float(before) + float(added), float(after), 1e-4)
            totals[child] = float(after)
        else:
            assert child not in totals, f"{child} had a contribution already: {line}"
            assert close(float(total), contrib)
            totals[child] = float(total)
        edges += 1
    last = lines[-1]
    assert last.startswith("leaf grads: ")
    for name, v in leaves.items():
        assert close(totals[name], v.grad), (name, totals[name], v.grad)
        assert (f" {name} = " in last) == v.is_leaf
    return edges


def test_small_expression_lines_match_engine():
    o, vals = small_expression()
    before = {k: v.grad for k, v in vals.items()}
    text_before = explain(o)  # no backward yet: explain replays it from scratch
    assert all(v.grad == before[k] for k, v in vals.items())
    o.backward()
    assert explain(o) == text_before
    n_edges = check_text(o, {k: vals[k] for k in ("x", "w", "b", "n")})
    assert n_edges == sum(len(v._prev) for v in topo_order(o))


def test_running_total_where_paths_meet():
    a = Value(3.0, label="a")
    out = a * a + a
    out.label = "out"
    out.backward()
    text = explain(out)
    check_text(out, {"a": a})
    assert a.grad == 7.0
    # backward reaches a first through "+" (1), then twice through "*" (3 each)
    totals = [line.rsplit("| ", 1)[1] for line in text.splitlines()[1:-1]]
    assert [t for t in totals if t.startswith("a.grad")] == [
        "a.grad = 1", "a.grad = 1 + 3 = 4", "a.grad = 4 + 3 = 7"]


def test_tutorial_network_totals():
    out, xs, hidden = tutorial_by_hand()
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    params = {v.label: v for v in topo_order(loss) if v.is_leaf and v.label}
    check_text(loss, params)


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


# what the engine's rule texts call, written here from the math
RULE_NAMES = {"log": math.log, "exp": math.exp, "sin": math.sin, "cos": math.cos, "sigmoid": _sigmoid,
              "sign": lambda x: (x > 0) - (x < 0), "exponent_log": math.log, "abs": abs}


def test_every_op_rule_text_evaluates_to_its_local_derivative():
    x, y = Value(0.7, label="x"), Value(1.3, label="y")
    terms = [x + y, x - y, x * y, x / y, x ** y, -x, x ** 3, 2 ** x, x.exp(), y.log(), y.sqrt(),
             x.tanh(), x.sigmoid(), x.relu(), (-y).leaky_relu(0.1), x.abs(), x.sin(), x.cos(), x.softplus()]
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    out.backward()
    t = trace(out)
    # the replay adds in the engine's order, so it is exact, not approximately equal
    for i, v in enumerate(t.nodes):
        assert t.grads[i] == v.grad, (i, v)
    text = explain(out)
    # each printed rule, with the printed names standing for their data, gives the printed value
    env = dict(RULE_NAMES)
    env.update({name: v.data for name, v in zip(t.names, t.nodes) if name.isidentifier()})
    # unlabelled values are named by their expression (tanh(x), (x*y)), which evaluates too
    env.update({"tanh": math.tanh, "sqrt": math.sqrt, "relu": lambda v: max(v, 0.0),
                "leaky_relu": lambda v: v if v > 0 else 0.1 * v,
                "softplus": lambda v: math.log1p(math.exp(v))})
    for line in text.splitlines()[1:-1]:
        m = LINE.match(line)
        rule = m.group(6).rsplit(" = ", 1)[0]
        local = float(m.group(8))
        assert math.isclose(eval(rule, env), local, rel_tol=1e-5, abs_tol=1e-12), line
    assert len(text.splitlines()) == 2 + sum(len(v._prev) for v in t.nodes)
    check_text(out, {"x": x, "y": y})


def test_explain_rejects_non_values():
    with pytest.raises(TypeError, match="Value"):
        explain(3.0)


def test_stored_grads_that_are_not_this_pass_are_called_out():
    a = Value(2.0, label="a")
    L = a * a
    L.label = "L"
    assert explain(L).splitlines()[-1] == "leaf grads: a = 4"  # before backward: nothing to compare
    L.backward()
    assert explain(L).splitlines()[-1] == "leaf grads: a = 4"
    L.backward()  # a.grad accumulates to 8; the replayed pass still gives 4
    *_, leaves, note = explain(L).splitlines()
    assert leaves == "leaf grads: a = 4"
    assert note.startswith("stored grads differ: a.grad = 8 (accumulated over several backward() calls")
    x = Value(3.0, label="x")
    z = x ** 2 * x
    z.backward()
    x.data = 1.0  # the replay uses today's ∂(x**2)/∂x = 2 with the grads of the old data
    assert explain(z).splitlines()[-1].startswith("stored grads differ: x.grad = 27 (")
