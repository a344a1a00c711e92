"""Students' own ops: define_op, and the lecture's hand-built nodes with a _backward closure.

Oracles: central differences of the same function on floats, and derivatives worked out by
hand in the comments (d/dx x**3 = 3x**2, second derivative 6x). The lecture's cells are
copied as the lecture writes them, with only the import changed.
"""

from __future__ import annotations

import math

import pytest

from chainrule import autograd, viz
from chainrule.autograd import RULES, Value, define_op, gradcheck


@pytest.fixture(autouse=True)
def _restore_rules():
    """Each test's own ops leave RULES and Value as they were (other tests count the rows)."""
    rules, methods = dict(RULES), set(vars(Value))
    yield
    RULES.clear()
    RULES.update(rules)
    for name in set(vars(Value)) - methods:
        delattr(Value, name)
    autograd.custom._DEFINED_METHODS.clear()


def central(f, xs, i, h=1e-6):
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


# -- the lecture's way: a node built by hand, its _backward assigned ---------------------


def lecture_tanh(self):
    # As in the lecture's Value.tanh, written as a function of a chainrule Value.
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), 'tanh')

    def _backward():
        self.grad += (1 - t**2) * out.grad
    out._backward = _backward
    return out


def lecture_exp(self):
    x = self.data
    out = Value(math.exp(x), (self, ), 'exp')

    def _backward():
        self.grad += out.data * out.grad
    out._backward = _backward
    return out


def lecture_pow(self, other):
    assert isinstance(other, (int, float)), "only supporting int/float powers for now"
    out = Value(self.data**other, (self,), f'**{other}')

    def _backward():
        self.grad += other * (self.data ** (other - 1)) * out.grad
    out._backward = _backward
    return out


def test_lecture_neuron_with_hand_written_tanh_matches_central_differences():
    def f(x1, x2, w1, w2, b):
        return math.tanh(x1 * w1 + x2 * w2 + b)

    point = [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]
    x1, x2, w1, w2, b = (Value(v, label=n) for v, n in zip(point, ["x1", "x2", "w1", "w2", "b"]))
    n = x1 * w1 + x2 * w2 + b
    o = lecture_tanh(n)
    o.label = 'o'
    o.backward()
    for i, v in enumerate((x1, x2, w1, w2, b)):
        assert math.isclose(v.grad, central(f, point, i), rel_tol=1e-6, abs_tol=1e-9), v.label
    assert o._op == "tanh"


def test_hand_written_closures_are_called_once_each_in_backward_order():
    calls = []

    def traced(name, fn):
        def inner(x):
            out = fn(x)
            inner_backward = out._backward

            def _backward():
                calls.append(name)
                inner_backward()
            out._backward = _backward
            return out
        return inner

    x = Value(0.3)
    y = traced("exp", lecture_exp)(x)
    z = traced("pow", lambda v: lecture_pow(v, 3))(y)
    w = traced("tanh", lecture_tanh)(z)
    w.backward()
    assert calls == ["tanh", "pow", "exp"]  # from the output down, each once
    # d/dx tanh(exp(x)^3) = (1 - tanh^2) * 3 exp(3x)
    e3 = math.exp(3 * 0.3)
    assert math.isclose(x.grad, (1 - math.tanh(e3) ** 2) * 3 * e3, rel_tol=1e-12)
    calls.clear()
    w.backward()  # a second pass calls them again and intermediate grads do not double
    assert calls == ["tanh", "pow", "exp"]
    assert math.isclose(x.grad, 2 * (1 - math.tanh(e3) ** 2) * 3 * e3, rel_tol=1e-12)


def test_an_op_name_not_in_the_table_builds_a_node_drawn_with_its_name():
    RULES.pop("cube", None)  # in case an earlier test defined it (restored after this test)
    x = Value(2.0, label="x")
    out = Value(x.data ** 3, (x,), 'cube')

    def _backward():
        x.grad += 3 * x.data ** 2 * out.grad
    out._backward = _backward
    out.label = "y"
    assert out._op == "cube" and out._prev == (x,) and out.rule.name == "cube"
    assert "cube" not in RULES  # a hand-built name is not a defined op
    (out * 2).backward()
    assert x.grad == 24.0
    # The pictures name it; its derivative reads as the _backward it came from.
    assert "cube" in viz.draw_graph(out).source
    text = viz.explain(out)
    assert "cube(x)" in text and "_backward" in text and "12" in text


def test_hand_built_node_without_backward_is_a_clear_error_in_backward():
    RULES.pop("cube", None)  # an op defined by an earlier test would give it a rule
    x = Value(2.0)
    out = Value(8.0, (x,), 'cube')
    with pytest.raises(ValueError, match=r"'cube' node.*no _backward.*out\._backward"):
        out.backward()


def test_known_op_name_without_closure_still_uses_the_table():
    x = Value(0.5)
    out = Value(math.tanh(0.5), (x,), 'tanh')
    out.backward()
    assert math.isclose(x.grad, 1 - math.tanh(0.5) ** 2, rel_tol=1e-15)


def test_a_wrong_closure_is_what_backward_uses():
    # The student's closure is the op's derivative, right or wrong: backward runs it.
    x = Value(0.5)
    out = Value(math.tanh(0.5), (x,), 'tanh')

    def _backward():
        x.grad += 7.0 * out.grad
    out._backward = _backward
    out.backward()
    assert x.grad == 7.0
    assert out.local_grads() == (7.0,)


def test_manual_backward_calls_as_in_the_lecture():
    a, b = Value(2.0, label='a'), Value(-3.0, label='b')
    c = a * b
    o = lecture_tanh(c)
    o.grad = 1.0
    o._backward()  # the closure
    c._backward()  # the engine's own: passes c.grad to a and b with the stored locals
    t = math.tanh(-6.0)
    assert math.isclose(c.grad, 1 - t * t) and math.isclose(a.grad, (1 - t * t) * -3.0)
    assert math.isclose(b.grad, (1 - t * t) * 2.0)


def test_grad_and_gradcheck_work_through_closures():
    def f(x):
        return lecture_tanh(lecture_pow(x, 2) * 0.5)
    assert gradcheck(f, [0.7])
    x = Value(0.7)
    assert math.isclose(autograd.grad(f(x), x), central(lambda v: math.tanh(v * v * 0.5), [0.7], 0),
                        rel_tol=1e-7)
    assert x.grad == 0.0  # grad() leaves .grad alone, even while it runs the closures
    with pytest.raises(TypeError, match="create_graph.*_backward"):
        autograd.grad(f(x), x, create_graph=True)


def test_setting_backward_to_a_non_function_is_an_error():
    with pytest.raises(TypeError, match="_backward must be a function"):
        Value(1.0)._backward = 3


def test_extra_attributes_work_as_on_the_lecture_class():
    v = Value(3.0, label="v")
    v.name = "x"
    v.note = {"seen": True}
    assert (v.name, v.note) == ("x", {"seen": True})
    w = v * 2
    w.anything = 1
    assert w.anything == 1 and not hasattr(v * 3, "anything")
    with pytest.raises(AttributeError):
        v.missing  # noqa: B018


def test_micrograd_readme_example_unchanged():
    from chainrule.autograd import Value
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert f'{g.data:.4f}' == '24.7041'
    g.backward()
    assert f'{a.grad:.4f}' == '138.8338'
    assert f'{b.grad:.4f}' == '645.5773'


# -- define_op -----------------------------------------------------------------------


def test_define_op_in_text_works_everywhere():
    cube = define_op("cube", "a ** 3", "3 * a**2")
    assert RULES["cube"].local == ("3 * a**2",) and RULES["cube"].arity == 1
    x = Value(2.0, label="x")
    y = cube(x)
    assert y.data == 8.0 and y._op == "cube"
    y.backward()
    assert x.grad == 12.0
    assert autograd.grad(cube(x), x) == 12.0
    d1 = autograd.grad(cube(x), x, create_graph=True)  # 3x^2 as a Value, then 6x
    assert d1.data == 12.0 and autograd.grad(d1, x) == 12.0
    assert gradcheck(lambda v: cube(v.tanh()) * 2, [0.3])
    assert "3 * x**2" in viz.explain(y)
    assert "cube" in viz.draw_graph(y).source
    assert cube(2).data == 8.0 and cube(Value(1.5)).data == 3.375


def test_define_op_with_functions_and_two_operands():
    def dhyp_da(a, b, out):
        return a / out

    hyp = define_op("hyp", lambda a, b: math.hypot(a, b), (dhyp_da, lambda a, b, out: b / out),
                    math="sqrt(a**2 + b**2)")
    a, b = Value(3.0), Value(4.0)
    out = hyp(a, b)
    out.backward()
    assert out.data == 5.0 and (a.grad, b.grad) == (0.6, 0.8)
    assert RULES["hyp"].out is None  # given as functions: nothing for the compiler to read
    assert RULES["hyp"].local[0] == "dhyp_da(...)"
    assert gradcheck(lambda u, v: hyp(u, v * 2), [1.0, -0.5])


def test_define_op_with_functions_of_values_supports_create_graph():
    sq = define_op("sq", lambda a: a * a, lambda a, out: 2 * a)
    x = Value(1.5)
    d1 = autograd.grad(sq(x), x, create_graph=True)
    assert d1.data == 3.0 and autograd.grad(d1, x) == 2.0


def test_define_op_as_a_method_and_redefinition():
    define_op("twice", "2 * a", "2", method=True)
    assert Value(1.5).twice().data == 3.0
    define_op("twice", "2.0 * a", "2.0", method=True)  # re-running the cell replaces it
    assert RULES["twice"].out == "2.0 * a"
    with pytest.raises(ValueError, match="Value already has an attribute 'detach'"):
        define_op("detach", "a", "1", method=True)
    assert "detach" not in RULES  # refused before anything changed
    define_op("detach", "a", "1")  # as a function only, the name is free
    assert "detach" in RULES and Value.detach is not RULES["detach"]


@pytest.mark.parametrize("args, error, match", [
    (("exp", "a", "1"), ValueError, "'exp' is a built-in op"),
    (("two words", "a", "1"), ValueError, "must be a Python identifier"),
    (("bad", "a +", "1"), ValueError, "forward 'a \\+' is not a Python expression"),
    (("bad", "a", ("1", "1", "1")), ValueError, "one local derivative per operand"),
    (("bad", "a", 3), TypeError, "local derivative 0 must be text or a function"),
    (("bad", 3, "1"), TypeError, "forward must be text or a function"),
])
def test_define_op_errors_say_what_is_wrong(args, error, match):
    with pytest.raises(error, match=match):
        define_op(*args)


def test_defined_op_errors_name_the_op():
    inv = define_op("inv", "1 / a", "-1 / a**2")
    with pytest.raises(ZeroDivisionError, match="^inv: "):
        inv(Value(0.0))
    with pytest.raises(TypeError, match=r"inv\(\) takes 1 operand"):
        inv(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match="operand 0 must be a Value or a number"):
        inv("x")


def test_defined_op_in_the_stepper_page(tmp_path):
    cube3 = define_op("cube3", "a ** 3", "3 * a**2")
    y = cube3(Value(2.0, label="x"))
    y.label = "y"
    assert "cube3" in viz.stepper_html(y)


def test_defined_text_op_compiles_and_closures_are_refused():
    cube = define_op("cube", "a ** 3", "3 * a**2")
    w = Value(0.5, label="w")

    def step(x):
        return cube(w * x).relu() + (w * x).tanh()

    fast = autograd.compile(step)
    for x in (1.0, 2.0, -1.0):
        out = fast(x)
        w.grad = 0.0
        out.backward()
        compiled = (out.data, w.grad)
        w.grad = 0.0
        ref = step(Value(x))
        ref.backward()
        assert compiled == pytest.approx((ref.data, w.grad), rel=1e-12)

    def by_hand(x):
        return lecture_tanh(w * x)

    with pytest.raises(autograd.CompileError, match="hand-written _backward"):
        autograd.compile(by_hand)(1.0)


def test_defined_and_hand_built_ops_in_the_practice_page():
    cube = define_op("cube", "a ** 3", "3 * a**2")
    x = Value(2.0, label="x")
    y = cube(x) * lecture_tanh(x)
    y.label = "y"
    page = viz.practice_html(y)
    assert "cube" in page and "tanh" in page
