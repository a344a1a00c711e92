"""The practice exercise: its answers against central differences, its checks, and the terminal mode."""

from __future__ import annotations

import io
import math

import pytest
from hypothesis import assume, given, settings
from random_programs import BINARY, SETTINGS, UNARY, build, central, programs, run_floats, usable

from chainrule.autograd import Value
from chainrule.cli import main
from chainrule.viz import LESSONS, exercise, lesson
from chainrule.viz.exercise import parse_answer, tolerance

# -- random small graphs (tests/random_programs.py) and their central differences ----------------


def oracle(inputs, steps, floats, m, it) -> float:
    """Central differences for an item about program value ``m``: the output's slope in it
    (a grad), or its op's slope in one operand (a local derivative)."""
    if it.kind == "grad":
        return central(lambda h: run_floats(inputs, steps, m, h)[-1])
    op, i, j = steps[m - len(inputs)]
    if op in UNARY:
        return central(lambda h: UNARY[op][1](floats[i] + h))
    if it.slot == 0:
        return central(lambda h: BINARY[op][1](floats[i] + h, floats[j]))
    return central(lambda h: BINARY[op][1](floats[i], floats[j] + h))


@settings(SETTINGS)
@given(programs())
def test_expected_answers_match_central_differences(program):
    inputs, steps = program
    assume(usable(inputs, steps))
    vals = build(inputs, steps)
    out = vals[-1]
    ex = exercise(out, "both", 6)
    where = {id(v): m for m, v in enumerate(vals)}  # node -> its index in the program
    floats = run_floats(inputs, steps)
    for it in ex.items:
        want = oracle(inputs, steps, floats, where[id(ex.trace.nodes[it.node])], it)
        assert math.isclose(it.expected, want, rel_tol=1e-5, abs_tol=1e-6), (it, want)
        assert it.check(want)[0]
    # every reachable non-constant node but the root has its grad asked, every edge its slope
    grads = {it.node for it in ex.items if it.kind == "grad"}
    assert len(grads) == len(ex.trace.nodes) - 1
    assert sum(it.kind == "local" for it in ex.items) == len(ex.trace.edges)


def test_items_come_in_backward_order_grad_before_the_nodes_edges():
    ex = exercise(lesson("neuron"))
    seen_grad = {len(ex.trace.nodes) - 1}
    for it in ex.items:
        if it.kind == "grad":
            seen_grad.add(it.node)
        else:
            assert it.node in seen_grad  # a node's grad is asked before it passes it back
    order = [it.node for it in ex.items]
    assert order == sorted(order, reverse=True)


def test_the_neuron_lesson_is_the_lectures_neuron_worked_by_hand():
    # The lecture's numbers, not the engine's: b is chosen so that n = atanh(1/sqrt(2)), hence
    # o = 1/sqrt(2) and do/dn = 1 - o**2 = 1/2; then each product passes 1/2 times the other
    # operand to its inputs (x1 = 2, w1 = -3, x2 = 0, w2 = 1). tests/test_compat.py builds the
    # same neuron from the lecture's own cells, independently of this lesson, on purpose: it
    # checks that the engine runs the lecture's code, and a test must not take its graph from
    # the library it checks.
    ex = exercise(lesson("neuron"))
    names = ex.trace.names
    got = {(names[it.node], None if it.child is None else names[it.child]): it.expected for it in ex.items}
    s = "x1*w1 + x2*w2"
    want = {("o", "n"): 0.5, ("n", s): 1, ("n", "b"): 1, (s, "x1*w1"): 1, (s, "x2*w2"): 1,
            ("x1*w1", "x1"): -3, ("x1*w1", "w1"): 2, ("x2*w2", "x2"): 1, ("x2*w2", "w2"): 0,
            ("n", None): 0.5, ("b", None): 0.5, (s, None): 0.5, ("x1*w1", None): 0.5,
            ("x2*w2", None): 0.5, ("x1", None): -1.5, ("w1", None): 1, ("x2", None): 0.5,
            ("w2", None): 0}
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_ask_modes_and_digits():
    both, local, grad = (exercise(lesson("diamond"), ask) for ask in ("both", "local", "grad"))
    assert [it.kind for it in local.questions] == [it.kind for it in both.items if it.kind == "local"]
    assert {it.kind for it in grad.questions} == {"grad"}
    assert len(both.questions) == len(local.questions) + len(grad.questions) == len(both.items)
    assert exercise(lesson("neuron"), digits=2).show(0.70710678) == "0.71"
    with pytest.raises(ValueError, match="ask must be one of"):
        exercise(lesson("neuron"), "all")
    with pytest.raises(ValueError, match="digits"):
        exercise(lesson("neuron"), digits=0)
    with pytest.raises(TypeError, match="root must be"):
        exercise(1.0)


def test_tolerance_follows_the_shown_precision():
    assert tolerance(0.5, 4) == pytest.approx(0.0015)
    assert tolerance(0.5, 2) == pytest.approx(0.15)
    assert tolerance(0.0, 4) == pytest.approx(1e-4)  # an answer of 0 for a tiny slope counts
    assert tolerance(1e-6, 3, scale=2.0) == pytest.approx(0.06)  # contributions that cancel
    ex = exercise(lesson("neuron"))
    first = ex.questions[0]  # do/dn = 1 - o**2 = 0.5
    assert first.check(1 - 0.7071 ** 2)[0]  # worked from the shown o
    assert not first.check(0.51)[0]


@pytest.mark.parametrize("text, value", [("0.5", 0.5), (" -3/4 ", -0.75), ("1e-3", 0.001), ("+2", 2.0),
                                         (".5", 0.5), ("6 / -4", -1.5)])
def test_parse_answer(text, value):
    assert parse_answer(text) == value


@pytest.mark.parametrize("text, why", [("abc", "not a number: 'abc'"), ("", "not a number"),
                                       ("nan", "not a number"), ("1/0", "division by zero"),
                                       ("1e999", "too large"), ("2*3", "not a number")])
def test_parse_answer_refuses(text, why):
    with pytest.raises(ValueError, match=why):
        parse_answer(text)


def diagnosis(ex, prompt_start: str, answer: float) -> str:
    it = next(q for q in ex.questions if q.prompt.startswith(prompt_start))
    ok, why = it.check(answer)
    assert not ok
    return why


def test_diagnoses_name_the_mistake():
    ex = exercise(lesson("neuron"))
    n, o = 0.8813735870195432, math.tanh(0.8813735870195432)
    assert "used the input where the rule uses the output" in diagnosis(ex, "∂o/∂n", 1 - n * n)
    assert "multiplied by the input instead of the other operand" in diagnosis(ex, "∂(x1*w1)/∂x1", 2.0)
    assert diagnosis(ex, "∂o/∂n", -(1 - o * o)) == "the sign is wrong"
    assert diagnosis(ex, "∂o/∂n", 0.2) == "use ∂o/∂n = 1 - o**2"  # no known mistake: the rule
    ex = exercise(lesson("a+a"))
    assert "add them all" in diagnosis(ex, "a.grad", 1.0)
    ex = exercise(lesson("division"))
    assert "sign" in diagnosis(ex, "∂q/∂b", (3 - 2) / -2 / -2)
    ex = exercise(lesson("power"))
    assert "lower the exponent" in diagnosis(ex, "∂cube/∂xw", 3 * 3.0 ** 3)
    for q in ex.questions:  # no diagnosis fires on the right answer
        assert q.check(q.expected) == (True, "right")
        for wrong, why in q.mistakes:
            assert q.check(wrong) == (False, why)


def test_every_lesson_builds_and_matches_the_engine():
    for name in LESSONS:
        root = lesson(name)
        ex = exercise(root)
        root.backward()
        for it in ex.items:
            if it.kind == "grad":
                assert it.expected == ex.trace.nodes[it.node].grad
    with pytest.raises(ValueError, match="no built-in exercise named 'xor'"):
        lesson("xor")


def test_exercise_leaves_grads_alone():
    root = lesson("diamond")
    exercise(root)
    assert root.grad == 0.0


# -- the terminal mode ----------------------------------------------------------------------------


def play(capsys, monkeypatch, argv, lines):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{x}\n" for x in lines)))
    status = main(["practice", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def answers(name_or_root, ask="both"):
    root = lesson(name_or_root) if isinstance(name_or_root, str) else name_or_root
    return [repr(q.expected) for q in exercise(root, ask).questions]


def test_terminal_all_right_is_a_full_score(capsys, monkeypatch):
    status, out, err = play(capsys, monkeypatch, ["neuron"], answers("neuron"))
    assert status == 0, err
    assert out.count("right: ") == 18
    assert out.rstrip().endswith("done: score 18 / 18, a full score")
    assert "o = tanh(n) = 0.7071" in out  # the forward values are shown


def test_terminal_expression_and_modes(capsys, monkeypatch):
    root = Value(2.0, label="a") * Value(-3.0, label="b")
    root = (root + Value(10.0, label="c")).tanh()
    want = answers(root, "grad")
    argv = ["tanh(a*b + c)", "a=2", "b=-3", "c=10", "--ask", "grad"]
    status, out, _ = play(capsys, monkeypatch, argv, want)
    assert status == 0
    assert f"done: score {len(want)} / {len(want)}, a full score" in out
    assert "given: ∂" in out  # local derivatives are shown, not asked


def test_terminal_wrong_answer_does_not_advance(capsys, monkeypatch):
    right = answers("neuron")
    n = 0.8813735870195432
    status, out, _ = play(capsys, monkeypatch, ["neuron"], [repr(1 - n * n), right[0]])
    lines = out.splitlines()
    wrong = next(k for k, line in enumerate(lines) if "not yet" in line)
    assert "used the input where the rule uses the output" in lines[wrong]
    assert "[2/18]" not in lines[wrong] and "[2/18]" in out.split("right: ")[1]
    assert lines[wrong + 1].startswith("> right: ∂o/∂n")
    assert status == 1  # input ended before the last question


def test_terminal_hint_reveal_skip(capsys, monkeypatch):
    status, out, _ = play(capsys, monkeypatch, ["a+a"], ["h", "r", "s", "6/3"])
    assert status == 0
    assert "rule: ∂b/∂a = 1" in out
    assert "revealed: ∂b/∂a = 1" in out and "skipped: ∂b/∂a = 1" in out
    assert "done: score 1 / 3, 1 revealed, 1 skipped" in out


def test_terminal_bad_input_and_end_of_input(capsys, monkeypatch):
    status, out, _ = play(capsys, monkeypatch, ["a+a"], ["twelve", "", "1/0"])
    assert status == 1
    lines = out.splitlines()
    bad = [line for line in lines if "type a number" in line]
    assert len(bad) == 3  # one line each
    assert "not a number: 'twelve'" in bad[0] and "division by zero" in bad[2]
    assert lines[-1] == "> end of input: stopped at question 1 of 3; score 0 / 3"


def test_terminal_quit_list_and_errors(capsys, monkeypatch):
    status, out, _ = play(capsys, monkeypatch, ["diamond"], ["q"])
    assert status == 1 and "stopped at question 1 of 7" in out
    status, out, _ = play(capsys, monkeypatch, ["--list"], [])
    assert status == 0 and [line.split()[0] for line in out.splitlines()] == list(LESSONS)
    status, _, err = play(capsys, monkeypatch, [], [])
    assert status == 2 and "give an expression" in err
    status, _, err = play(capsys, monkeypatch, ["x*y", "x=1"], [])
    assert status == 2 and "no value given for 'y'" in err
    status, _, err = play(capsys, monkeypatch, ["neuron", "--digits", "0"], [])
    assert status == 2 and "--digits 0" in err
    status, _, err = play(capsys, monkeypatch, ["2 * 3"], [])
    assert status == 2 and "nothing" not in err and "no operation" in err
