"""viz.draw_paths: the sum over paths equals the leaf's grad; viz.draw_modes: forward beside reverse."""

import math

import pytest
from hypothesis import assume, given, settings
from random_programs import SETTINGS, build, central, programs, run_floats, usable
from test_viz_support import groups, parse_svg

from chainrule import viz
from chainrule.autograd import Value, grad
from chainrule.viz.paths import path_sum


@settings(SETTINGS, max_examples=80)
@given(programs())
def test_sum_over_paths_is_the_gradient_on_random_graphs(program):
    inputs, steps = program
    assume(usable(inputs, steps))
    vals = build(inputs, steps)
    out = vals[-1]
    for k, x in enumerate(vals[:len(inputs)]):
        total, n = path_sum(out, x)
        assert total == pytest.approx(grad(out, x, allow_unused=True), rel=1e-9, abs=1e-12)
        # and an oracle that knows nothing of derivatives: the program on floats, nudged
        slope = central(lambda h, k=k: run_floats(inputs, steps, k, h)[-1])
        assert total == pytest.approx(slope, rel=1e-5, abs=1e-6)
        if n == 0:
            assert grad(out, x, allow_unused=True) == 0.0


def test_the_picture_lists_each_path_and_shows_the_check():
    a, b = Value(0.5, label="a"), Value(-0.3, label="b")
    e = a * b
    L = (e + a) * a  # three paths from a: through e, through the sum, directly
    L.label = "L"
    L.backward()
    svg = parse_svg(viz.draw_paths(L, a).pipe(format="svg"))
    nodes = groups(svg, "node")
    ends = sorted(t[0] for k, t in nodes.items() if k.endswith("_end"))
    assert len(ends) == 3
    products = [float(t.split()[-1]) for t in ends]
    assert math.fsum(products) == pytest.approx(a.grad)
    # by hand: through e, b * 1 * a = -0.15; through the sum, 1 * a = 0.5; directly, e + a = 0.35;
    # and L = a**2 * b + a**2, so dL/da = 2ab + 2a = 0.7
    assert sorted(products) == pytest.approx([-0.15, 0.35, 0.5])
    assert math.fsum(products) == pytest.approx(0.7)
    title = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "sum over the 3 path(s)" in title and "(equal: checked)" in title


def test_exploding_paths_are_capped_with_a_note_on_factoring():
    x = Value(0.9, label="x")
    v = x
    for _ in range(12):  # each level uses the value twice: 2**12 paths
        v = v * v * 0.5 + 0.1
    svg = parse_svg(viz.draw_paths(v, x, max_paths=5).pipe(format="svg"))
    ends = [k for k in groups(svg, "node") if k.endswith("_end")]
    assert len(ends) == 5
    title = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "4096 paths lead from x" in title and "factoring the sum" in title


def test_forward_and_reverse_modes_meet_at_the_ends():
    a, b = Value(0.5, label="a"), Value(-0.3, label="b")
    L = ((a * b + 0.1) * a).tanh()
    L.label = "L"
    svg = parse_svg(viz.draw_modes(L, a).pipe(format="svg"))
    nodes = groups(svg, "node")
    rows = {k: v for k, v in nodes.items() if any(t.startswith("forward") for t in v)}
    root = rows[max(rows, key=lambda k: int(k[1:]))]
    fwd = float(next(t for t in root if t.startswith("forward")).split()[-1])
    leaf = rows["v0"]
    rev = float(next(t for t in leaf if t.startswith("reverse")).split()[-1])
    assert fwd == pytest.approx(rev, rel=1e-3) and rev == pytest.approx(grad(L, a), rel=1e-3)
    # by hand: L = tanh(a**2 b + 0.1 a), dL/da = (1 - L**2)(2ab + 0.1)
    assert rev == pytest.approx((1 - math.tanh(0.25 * -0.3 + 0.05) ** 2) * (2 * 0.5 * -0.3 + 0.1), rel=1e-3)
    title = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "(equal)" in title and "reverse mode gets every gradient in one pass" in title


def test_bad_arguments_are_named():
    a = Value(1.0)
    with pytest.raises(ValueError, match="not in the graph"):
        viz.draw_paths(a * a, Value(2.0))
    with pytest.raises(TypeError, match="leaf must be a Value"):
        viz.draw_paths(a * a, 2.0)
    with pytest.raises(ValueError, match="max_paths"):
        viz.draw_paths(a * a, a, max_paths=0)
    with pytest.raises(ValueError, match="not in the graph"):
        viz.draw_modes(a * a, Value(2.0))


def test_a_long_path_keeps_its_ends_and_multiplies_the_middle_in_one_box():
    x = Value(0.9, label="x")
    v = x
    for k in range(40):  # one path of 40 steps, each local derivative 1.01 or k-dependent
        v = v * (1.0 + 0.01 * k)
    v.label = "out"
    v.backward()
    svg = parse_svg(viz.draw_paths(v, x).pipe(format="svg"))
    nodes = groups(svg, "node")
    gap = " ".join(nodes["p0_gap"])
    steps, inside = gap.split("… ")[1].split(" steps, local derivatives multiplying to ")
    # 24 steps drawn (12 at each end), the other 16 in the box, their product by hand
    assert int(steps) == 16
    middle = math.prod(1.0 + 0.01 * k for k in range(12, 28))
    assert float(inside.rstrip(" …")) == pytest.approx(middle, rel=1e-3)
    drawn = [k for k in nodes if k.startswith("p0_") and k[3:].isdigit()]
    assert len(drawn) == 26
    product = float(nodes["p0_end"][0].split()[-1])
    assert product == pytest.approx(x.grad, rel=1e-3)
