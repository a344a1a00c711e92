"""autograd.compile: a recorded step replayed on new data gives the engine's values and gradients.

Every comparison is against the uncompiled engine on the same data and weights (itself checked
against sympy and central differences elsewhere), for both backends: batched numpy and
straight-line floats.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from ops_registry import CASES

from chainrule import nn
from chainrule.autograd import CompileError, OpError, Value, compile

BACKENDS = ["numpy", "floats"]
REL = 1e-12


def assert_close(got, want, what):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = np.maximum(np.abs(want), 1e-300)
    worst = float(np.max(np.abs(got - want) / scale)) if want.size else 0.0
    assert worst <= REL, f"{what}: relative difference {worst:.3g}"


def as_values(X):
    """Each row of X as a list of plain leaf Values: the engine's input for the same numbers."""
    return [[Value(float(x)) for x in row] for row in X]


def assert_replay_matches_engine(fast, params, args, engine_args, what):
    """``fast(*args)`` must replay (a recording would make this engine against engine), and
    its output and the gradients of ``params`` must equal ``fast.fn(*engine_args)``'s on the
    engine. Returns the compiled output."""
    for p in params:
        p.grad = 0.0
    out = fast(*args)
    assert not out.recorded, f"{what}: the call recorded again instead of replaying"
    out.backward()
    got = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    ref = fast.fn(*engine_args)
    ref.backward()
    assert_close(out.data, ref.data, f"{what} value")
    assert_close(got, [p.grad for p in params], f"{what} gradients")
    return out


def draw(case, rng, n):
    """n points inside the case's domain, one column per operand."""
    cols = []
    for intervals in case.domain:
        pick = rng.integers(len(intervals), size=n)
        lo = np.array([intervals[k][0] for k in pick])
        hi = np.array([intervals[k][1] for k in pick])
        cols.append(lo + (hi - lo) * rng.uniform(0.05, 0.95, size=n))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_registry_op_matches_the_engine(case, backend):
    """Each op, applied to (x + w) per sample: the output and d/dw equal the engine's."""
    rng = np.random.default_rng(abs(hash(case.name)) % 2**32)
    w = [Value(0.0, label=f"w{j}") for j in range(case.arity)]

    def total(X):
        outs = [case.apply(*[x + wj for x, wj in zip(row, w)]) for row in X]
        acc = outs[0]
        for o in outs[1:]:
            acc = acc + o
        return acc

    fast = compile(total, backend=backend)
    fast(draw(case, rng, 6))  # records
    X = draw(case, rng, 6)
    assert_replay_matches_engine(fast, w, [X], [as_values(X)], case.name)
    assert fast.program.backend == backend


LOSSES = ["mse", "sum_of_squares", "hinge", "binary_cross_entropy"]


def random_problem(seed):
    rng = np.random.default_rng(seed)
    nin = int(rng.integers(1, 4))
    sizes = [int(k) for k in rng.integers(1, 6, size=int(rng.integers(1, 3)))] + [1]
    activation = ["relu", "tanh", "sigmoid", "linear"][seed % 4]
    loss = LOSSES[seed % len(LOSSES)]
    out_act = "sigmoid" if loss == "binary_cross_entropy" else ["linear", "tanh"][seed % 2]
    model = nn.MLP(nin, sizes, activation=activation, output_activation=out_act, seed=seed)
    n = int(rng.integers(2, 9))

    def batch():
        X = rng.normal(size=(n, nin))
        if loss == "hinge":
            y = rng.choice([-1.0, 1.0], size=n)
        elif loss == "binary_cross_entropy":
            y = rng.choice([0.0, 1.0], size=n)
        else:
            y = rng.normal(size=n)
        return X, y

    l2 = float(rng.choice([0.0, 1e-3]))
    return model, batch, nn.LOSSES[loss], l2


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", range(12))
def test_random_models_match_the_engine_on_new_data_and_weights(seed, backend):
    model, batch, loss_fn, l2 = random_problem(seed)
    params = model.parameters()

    def step(X, y):
        total = loss_fn([model(row) for row in X], y)
        return total + l2 * nn.l2_penalty(params) if l2 else total

    fast = compile(step, backend=backend)
    fast(*batch())
    rng = np.random.default_rng(seed + 100)
    for _ in range(3):
        for p in params:  # new weights, as after an optimizer step
            p.data += 0.1 * rng.normal()
        X, y = batch()
        # The engine gets the targets as floats: the losses' number path checks their Value path.
        assert_replay_matches_engine(fast, params, [X, y], [as_values(X), y.tolist()], "loss")
    assert fast.stats["replayed"] >= 1


def test_backward_accumulates_like_the_engine():
    w = Value(2.0)
    fast = compile(lambda x: (w * x).tanh())
    fast(np.array(0.3))
    out = fast(np.array(0.5))
    out.backward()
    out.backward()
    assert w.grad == pytest.approx(2 * 0.5 * (1 - math.tanh(1.0) ** 2), rel=1e-14)


def test_new_shapes_record_again():
    w = Value(1.5)
    fast = compile(lambda X: sum((w * x for x in X), Value(0.0)))
    assert fast(np.ones(3)).data == 4.5
    assert fast(np.ones(5)).data == 7.5
    assert fast(np.full(3, 2.0)).data == 9.0
    assert fast.stats["recorded"] == 2 and fast.stats["replayed"] == 1
    assert len(fast.programs) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_branch_that_flips_records_again(backend):
    w = Value(1.0, label="w")

    def f(X):
        total = Value(0.0)
        for x in X:
            z = w * x
            total = total + (z.exp() if z > 0 else -z)  # a Python branch on a Value
        return total

    fast = compile(f, backend=backend)
    fast(np.array([1.0, 2.0]))
    same = fast(np.array([3.0, 0.5]))  # same branches: replayed
    assert not same.recorded and same.data == pytest.approx(math.exp(3) + math.exp(0.5), rel=1e-14)
    flipped = fast(np.array([3.0, -0.5]))  # the second sample takes the other branch
    assert flipped.recorded and fast.stats["rerecorded"] == 1
    assert flipped.data == pytest.approx(math.exp(3) + 0.5, rel=1e-14)
    w.grad = 0.0
    again = fast(np.array([1.0, -2.0]))  # the new recording replays
    assert not again.recorded
    again.backward()
    assert w.grad == pytest.approx(math.exp(1.0) + 2.0, rel=1e-14)


def test_max_of_values_is_guarded():
    a, b = Value(1.0), Value(2.0)
    fast = compile(lambda x: max(a * x, b * x))
    assert fast(np.array(1.0)).data == 2.0
    out = fast(np.array(-1.0))  # now a * x is the larger
    assert out.data == -1.0 and out.recorded


def test_recordings_in_two_threads_keep_their_own_branches():
    # Both threads are inside their recordings at once (the barrier), and a third thread
    # takes bool() of a Value meanwhile: each recording must see its own comparison only.
    meet = threading.Barrier(3, timeout=30)
    w = Value(2.0)

    def f(x):
        y = x * w if x > 0 else x * x  # branch of f: compared before the meeting
        meet.wait()
        return y

    def g(x):
        meet.wait()
        return (x + w).tanh() if x < 1 else x - w  # branch of g: compared after it

    fast_f, fast_g, errors = compile(f), compile(g), []

    def run(fast, x):
        try:
            fast(np.array(x))
        except Exception as err:  # noqa: BLE001 - handed to the main thread's assertion
            errors.append(err)

    threads = [threading.Thread(target=run, args=(fast_f, 3.0)),
               threading.Thread(target=run, args=(fast_g, 0.5))]
    for t in threads:
        t.start()
    meet.wait()
    assert bool(Value(1.0))  # not recording here: allowed, whatever the others do
    for t in threads:
        t.join()
    assert errors == []
    # Flip each branch: each function must record again and give what the engine gives.
    meet = threading.Barrier(1)
    for fast, fn, x in ((fast_f, f, -3.0), (fast_g, g, 4.0)):
        out = fast(np.array(x))
        assert out.recorded and fast.stats["rerecorded"] == 1
        assert out.data == fn(Value(x)).data


def test_bool_of_a_value_is_refused_with_file_and_line():
    w = Value(1.0)

    def f(x):
        z = w * x
        if z:  # this is the line the error must name
            return z
        return -z

    line = f.__code__.co_firstlineno + 2
    with pytest.raises(CompileError, match=rf"test_compile\.py:{line}: bool\(\) of a Value"):
        compile(f)(np.array(1.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_domain_error_names_op_operand_and_sample(backend):
    w = Value(1.0, label="w")
    fast = compile(lambda X: sum(((w * x).log() for x in X), Value(0.0)), backend=backend)
    fast(np.array([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(OpError) as info:
        fast(np.array([1.0, 2.0, -3.0, 4.0]))
    message = str(info.value)
    assert "'log'" in message and "a = -3.0" in message and "sample 2 (X[2])" in message
    assert "log(-3.0): log needs a positive operand" in message


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_derivative_error_is_raised_by_backward(backend):
    w = Value(1.0)
    fast = compile(lambda X: sum(((w * x).sqrt() for x in X), Value(0.0)), backend=backend)
    fast(np.array([1.0, 4.0]))
    out = fast(np.array([1.0, 0.0]))  # sqrt(0) is fine; its slope is not
    assert out.data == 1.0
    with pytest.raises(ZeroDivisionError, match="sample 1"):
        out.backward()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_exponent_slope_at_a_zero_base_is_the_tables_zero(backend):
    """d(a ** w)/dw = out * log(a) and d(0 ** w)/dw = out * log(0) are 0 at a base of 0 (the
    limit; the table's log_at_zero), not a log error: sum(x ** w) + 0 ** w at x = 0, 2 and
    w = 2 is 4 with d/dw = 4 log 2, by hand."""
    w = Value(2.0, label="w")
    fast = compile(lambda X: sum((x ** w for x in X), 0.0 ** w), backend=backend)
    fast(np.array([1.0, 3.0]))
    out = fast(np.array([0.0, 2.0]))
    assert not out.recorded and out.data == 4.0
    out.backward()
    assert w.grad == pytest.approx(4 * math.log(2), rel=1e-14)


def test_source_is_the_chain_rule_written_out():
    w = Value(0.5, label="w")
    b = Value(-0.2, label="bias")

    def f(x, y):
        h = (w * x + b).tanh()
        h.label = "h"
        return (h - y) ** 2

    fast = compile(f)
    fast(0.3, 1.0)
    source = fast.source
    forward, backward = source.split("def backward")
    assert "h = tanh(" in forward and "w * x" in forward
    assert "d_h" in backward and "1 - h ** 2" in backward  # tanh's rule text, on the node's name
    assert backward.index("d_h") < backward.index("d_w")  # last op first
    scope = {}
    exec(source, __import__("chainrule.autograd.rules", fromlist=["x"]).FLOAT_NAMES | scope, scope)
    # The source runs on its own, and is the chain rule: on new numbers, the output and the
    # derivatives worked by hand, d/dw = 2 (h - y)(1 - h^2) x and d/dbias = 2 (h - y)(1 - h^2).
    assert [p.label for p in fast.program.graph.params] == ["w", "bias"]
    x, y, wv, bv = 0.8, -0.5, 1.5, 0.25
    out, _, state = scope["forward"]([x, y], [wv, bv])
    h = math.tanh(wv * x + bv)
    assert out == pytest.approx((h - y) ** 2, rel=1e-14)
    slope = 2 * (h - y) * (1 - h ** 2)
    assert scope["backward"](state) == pytest.approx((slope * x, slope), rel=1e-14)


def test_sample_gives_the_value_graph_of_one_sample():
    model = nn.MLP(2, [3, 1], seed=4)

    def step(X, y):
        return nn.mse([model(row) for row in X], y)

    fast = compile(step)
    X, y = np.arange(8.0).reshape(4, 2) / 8, np.array([0.0, 1.0, 0.0, 1.0])
    fast(X, y)
    one = fast.sample(2, X, y)
    assert isinstance(one, Value)
    ref = nn.mse([model(list(X[2]))], [y[2]])
    assert one.data == ref.data


def test_extra_outputs_come_back_as_arrays():
    w = Value(2.0)

    def f(X):
        outs = [w * x for x in X]
        return outs[0] + outs[1], outs

    fast = compile(f)
    fast(np.array([1.0, 2.0]))
    out = fast(np.array([3.0, 4.0]))
    assert out.data == 14.0 and np.array_equal(out.aux[0], [6.0, 8.0])


def test_arguments_are_checked():
    fast = compile(lambda x: x * 2)
    with pytest.raises(TypeError, match="argument 0"):
        fast("text")
    with pytest.raises(ValueError, match="backend"):
        compile(lambda x: x, backend="gpu")


def test_layers_become_matrix_products_and_other_dots_stay_exact():
    """A dense layer over a batch is scheduled as X @ W.T; products that do not factor (each
    sample's own weights) run as a gathered dot; both give the engine's gradients."""
    model = nn.MLP(3, [4, 2], activation="tanh", seed=5)
    v = [Value(0.1 * k, label=f"v{k}") for k in range(6)]
    params = model.parameters() + v

    def step(X):
        total = Value(0.0)
        for i, row in enumerate(X):
            a, b = model(list(row))
            own = v[i % 6] * row[0] + v[(i + 1) % 6] * row[1] + a * b  # not a shared layout
            total = total + own.tanh()
        return total

    fast = compile(step, backend="numpy")
    rng = np.random.default_rng(3)
    fast(rng.normal(size=(5, 3)))
    code = fast.program.batched.source
    assert "X @ W.T" in code and ".sum(axis=1)" in code
    X = rng.normal(size=(5, 3))
    assert_replay_matches_engine(fast, params, [X], [as_values(X)], "layers")


def test_sums_of_any_shape_are_fused_in_order():
    """A balanced tree of + (not a left-deep chain) with products and a shared term."""
    w = [Value(0.3 * k - 1.0, label=f"w{k}") for k in range(8)]

    def tree(items):
        while len(items) > 1:
            items = [items[i] + items[i + 1] if i + 1 < len(items) else items[i]
                     for i in range(0, len(items), 2)]
        return items[0]

    def step(X):
        return tree([tree([wk * x for wk, x in zip(w, row)] + [w[0]]).tanh() for row in X])

    fast = compile(step, backend="numpy")
    rng = np.random.default_rng(8)
    fast(rng.normal(size=(3, 8)))
    X = rng.normal(size=(3, 8))
    assert_replay_matches_engine(fast, w, [X], [as_values(X)], "sums")


def test_an_op_whose_text_calls_an_unknown_function_is_refused(monkeypatch):
    from chainrule.autograd import RULES, Rule

    clip = Rule("clip", 1, "min(a, 1)", "min(a, 1.0)", ("1 if a < 1 else 0",))
    monkeypatch.setitem(RULES, "clip", clip)

    def f(x):
        return Value(min(x.data, 1.0), (x * 2,), "clip")

    with pytest.raises(CompileError, match=r"op 'clip', whose text calls min: compile\(\) knows only"):
        compile(f)(np.array(0.3))
