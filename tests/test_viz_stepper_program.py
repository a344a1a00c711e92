"""The stepper beside the compiled program: each step's line(s), run on the engine's numbers,
add that step's contributions, and end at the engine's grads and at central differences."""

import json
import re

import pytest
from test_viz_stepper import open_page

from chainrule.autograd import RULES, CompileError, Value, define_op
from chainrule.autograd.compiler import listing
from chainrule.autograd.rules import FLOAT_NAMES
from chainrule.viz import stepper_html, write_stepper


def neuron(x, w, b):
    n = x * w + b
    n.label = "n"
    o = (n * x).tanh() + 2 * x - x / w
    o.label = "o"
    return o


def repeated(x, w, b):
    return (x + x) * (x * w) + (w ** 3 - b.log()) / (b.exp() + 1)


def branches(x, w, b):
    h = (x * w - b).relu() + (w * b).sigmoid()
    return h * h - x.abs()


GRAPHS = [neuron, repeated, branches]
POINT = (0.8, -1.3, 2.1)


def build(f, point):
    leaves = [Value(v, label=name) for v, name in zip(point, "xwb")]
    return f(*leaves), leaves


def page_frames(html: str) -> list[dict]:
    return json.loads(re.search(r'class="crs-data">(.*?)</script>', html, re.S).group(1))["frames"]


@pytest.mark.parametrize("f", GRAPHS, ids=lambda f: f.__name__)
def test_each_steps_lines_add_its_contributions_and_end_at_the_engines_grads(f):
    root, leaves = build(f, POINT)
    fs = page_frames(stepper_html(root, compiled=True))
    root.backward()  # the engine's grads: the oracle, with its local derivatives below
    rec = listing(root)  # only to name the program's variables: which Value each name holds
    name_of = {v: name for v, name in zip(rec.values, rec.names)}
    env = {name: v.data for v, name in name_of.items() if not v.is_constant}
    running: dict[Value, float] = {}
    order = [v for v in reversed(rec.values)]  # backward's order, as the stepper steps
    assert len(fs) == len(order)
    for k, (frame, v) in enumerate(zip(fs, order)):
        lines = [text for _, text in frame["code"]]
        if k == 0:
            assert lines[0] == f"d_{name_of[root]} = 1.0"
            exec(lines.pop(0), dict(FLOAT_NAMES), env)
        if v.is_leaf:
            assert lines == ([] if v.is_constant else [rec.line(rec.returns)])
            continue
        # a node passes its grad on once every user has passed theirs: the engine's final grad
        assert env[f"d_{name_of[v]}"] == pytest.approx(v.grad, rel=1e-12, abs=1e-12)
        targets = [(c, local) for c, local in zip(v._prev, v.local_grads()) if not c.is_constant]
        assert len(lines) == len(targets), frame
        for line, (c, local) in zip(lines, targets):
            assert re.match(rf"d_{re.escape(name_of[c])} [-+]?= ", line), line
            before = running.get(c, 0.0)
            exec(line, dict(FLOAT_NAMES), env)
            running[c] = before + local * v.grad
            assert env[f"d_{name_of[c]}"] == pytest.approx(running[c], rel=1e-12, abs=1e-12), line
    for leaf in leaves:
        assert env[f"d_{name_of[leaf]}"] == pytest.approx(leaf.grad, rel=1e-12, abs=1e-12)
        h = 1e-6
        up = [p + (h if q is leaf else 0.0) for p, q in zip(POINT, leaves)]
        down = [p - (h if q is leaf else 0.0) for p, q in zip(POINT, leaves)]
        numeric = (build(f, up)[0].data - build(f, down)[0].data) / (2 * h)
        assert env[f"d_{name_of[leaf]}"] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_the_page_names_renamed_variables_and_constants_and_folds_the_whole_program():
    root, _ = build(neuron, POINT)
    html = stepper_html(root, compiled=True)
    fs = page_frames(html)
    rec = listing(root)
    assert html.count('<span data-line="') == len(rec.source.splitlines())
    assert "tanh" in rec.source and "d_o = 1.0" in rec.source
    where = " ".join(f["where"] for f in fs)
    assert re.search(r"t\d+ is \(?n\*x\)?", where)  # the program's t-name of n*x, in the picture's terms
    assert any(f["where"].startswith("no line: the program computes no gradient for the constant")
               for f in fs)
    assert 'class="crs-code"' not in stepper_html(root)  # only when asked


def test_compiled_needs_an_op_with_formula_text():
    rules = dict(RULES)
    try:
        cube = define_op("cube_by_hand", lambda a: a ** 3, lambda a, out: 3 * a * a)
        x = Value(1.5, label="x")
        with pytest.raises(CompileError, match=r"write_stepper\(compiled=True\): .*formula text"):
            stepper_html(cube(x) * 2, compiled=True)
    finally:  # other tests count the rules
        RULES.clear()
        RULES.update(rules)
    with pytest.raises(TypeError, match="compiled must be True or False"):
        stepper_html(x * 2, compiled="yes")


def test_the_line_changes_as_the_user_steps_in_a_real_browser(browser, tmp_path):  # noqa: F811
    root, _ = build(neuron, POINT)
    path = write_stepper(root, tmp_path / "compiled.html", compiled=True)
    fs = page_frames(path.read_text(encoding="utf-8"))
    page, requests, errors = open_page(browser, path, 1400, 900)

    def shown() -> tuple[str, list[str]]:
        return (page.text_content(".crs-code"),
                page.eval_on_selector_all(".crs-program span.now", "ss => ss.map(s => s.dataset.line)"))

    def expected(k: int) -> tuple[str, list[str]]:
        return ("\n".join(f"line {n}:  {text}" for n, text in fs[k]["code"]),
                sorted((str(n) for n, _ in fs[k]["code"]), key=int))

    assert shown() == expected(0) and "d_o = 1.0" in shown()[0]
    page.click(".crs-next")
    assert shown() == expected(1) and shown() != expected(0)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert shown() == expected(3)
    page.keyboard.press("End")
    assert shown() == expected(len(fs) - 1) and "return (" in shown()[0]
    assert errors == [] and requests == [path.as_uri()]
    page.close()


def test_the_neuron_by_neuron_page_leaves_the_lines_out_and_says_so():
    from chainrule import nn

    model = nn.MLP(2, [3, 1], seed=0)
    loss = (model([Value(0.3, label="x0"), Value(-0.2, label="x1")]) - 1) ** 2
    html = stepper_html(loss, compiled=True, max_nodes=10)
    assert "one step per neuron" in html
    assert "the compiled program&#39;s lines are shown only when stepping scalar by scalar" in html
    assert 'class="crs-code"' not in html and "data-line=" not in html
