"""The ``chainrule`` command: every command's output files and every error's message and status."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.expr import MAX_LENGTH

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def grads_printed(out: str) -> dict[str, float]:
    found = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("d/d"):
            name, _, value = line[3:].partition(" = ")
            found[name] = float(value)
    return found


# -- graph ---------------------------------------------------------------------------------------


def test_graph_writes_svg_and_prints_hand_derived_gradients(tmp_path, capsys):
    target = tmp_path / "g.svg"
    status, out, err = run(capsys, "graph", "tanh(a*b + c)", "a=2", "b=-3", "c=10", "--out", str(target))
    assert status == 0, err
    t = math.tanh(2 * -3 + 10)
    got = grads_printed(out)
    assert got["a"] == pytest.approx((1 - t * t) * -3, rel=1e-5)
    assert got["b"] == pytest.approx((1 - t * t) * 2, rel=1e-5)
    assert got["c"] == pytest.approx(1 - t * t, rel=1e-5)
    svg = ET.parse(target).getroot()
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    for name in ("a", "b", "c", "tanh"):
        assert name in texts


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("dot", b"digraph")])
def test_graph_formats(tmp_path, capsys, fmt, magic):
    target = tmp_path / f"g.{fmt}"
    status, _, err = run(capsys, "graph", "x * x + 1", "x=3", "--out", str(target))
    assert status == 0, err
    assert target.read_bytes().lstrip()[: len(magic)] == magic


def test_graph_format_flag_without_out_names_the_default_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "graph", "exp(x)", "x=1", "--format", "dot")
    assert status == 0
    assert (tmp_path / "graph.dot").exists() and "graph.dot" in out


def test_graph_explain_prints_one_line_per_edge(tmp_path, capsys):
    target = str(tmp_path / "g.svg")
    status, out, _ = run(capsys, "graph", "a*b + a", "a=2", "b=5", "--out", target, "--explain")
    assert status == 0
    # a*b + a has four edges: (+, a*b), (+, a), (*, a), (*, b)
    steps = [line for line in out.splitlines() if line[:1].isdigit() and ". " in line]
    assert len(steps) == 4
    assert grads_printed(out) == {"a": 6.0, "b": 2.0}  # d/da = b + 1, d/db = a


def test_graph_page_writes_html(tmp_path, capsys):
    page = tmp_path / "steps.html"
    status, _, _ = run(capsys, "graph", "sigmoid(w*x)", "w=0.5", "x=2", "--out", str(tmp_path / "g.svg"),
                       "--page", str(page))
    assert status == 0
    html = page.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "<svg" in html


UNSAFE = [
    ("a.__class__", "attribute"),
    ("__import__('os').system('true')", "only these functions"),
    ("open('x')", "only these functions"),
    ("a[0]", "subscript"),
    ("(lambda: 1)()", "only these functions"),
    ("lambda: 1", "lambda"),
    ("a if a else 1", "conditional"),
    ("a < 1", "comparison"),
    ("[a]", "list"),
    ("'text'", "only numbers"),
    ("a @ a", "MatMult"),
    ("a // 2", "FloorDiv"),
    ("exp(x=a)", "keyword"),
    ("exp(a, a)", "exactly 1 argument"),
    ("(a := 2)", "assignment"),
    ("[a for a in (1, 2)]", "comprehensions"),
    ("exp(a for a in (1, 2))", "generator expressions"),
    ("sum(a for a in (1, 2))", "only these functions"),
    ("{a: 1}", "dict"),
    ("a +", "not a valid expression"),
    ("a" + " + a" * MAX_LENGTH, "limit"),
]


@pytest.mark.parametrize("expr, words", UNSAFE, ids=[u[1] for u in UNSAFE])
def test_unsafe_or_invalid_expressions_are_refused_in_one_line(capsys, tmp_path, expr, words):
    status, out, err = run(capsys, "graph", expr, "a=1", "--out", str(tmp_path / "g.svg"))
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("chainrule graph: ")
    assert words in err
    assert not (tmp_path / "g.svg").exists()


def test_refusal_points_at_the_offending_part(capsys, tmp_path):
    status, _, err = run(capsys, "graph", "a + b.real", "a=1", "b=2")
    assert status == 2
    assert "'b.real' at column 5" in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["a + b", "a=1"], "no value given for 'b'"),
        (["a", "a=abc"], "'abc' is not a number"),
        (["a", "a"], "expected NAME=VALUE"),
        (["a", "a=1", "a=2"], "given twice"),
        (["a", "a=1", "b=2"], "not used in the expression: b"),
        (["a", "a=inf"], "finite"),
        (["foo(a)", "a=1"], "only these functions"),
        (["log(a)", "a=-1"], "log(-1.0)"),
        (["exp(a)", "a=1000"], "overflows"),
        (["a / b", "a=1", "b=0"], "division by zero"),
        (["exp", "a=1"], "'exp' is a function"),
        (["exp(a)", "exp=1"], "function name"),
        (["(-8)**(1/3) * a", "a=1"], "not a real number"),  # never a silent complex number
        (["(-1)**0.5 + a", "a=1"], "not a real number"),
        (["10**400 + a", "a=1"], "overflows"),
        (["1e999 * a", "a=1"], "too large"),
        (["a / (2 - 2)", "a=1"], "division by zero"),
    ],
)
def test_graph_errors_exit_2_with_one_line(capsys, tmp_path, argv, words):
    status, _, err = run(capsys, "graph", *argv, "--out", str(tmp_path / "g.svg"))
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert words in err


def test_pointer_counts_characters_not_bytes(capsys):
    status, _, err = run(capsys, "graph", "π + a.b", "a=1", "π=3")
    assert status == 2
    assert "'a.b' at column 5" in err


def test_constant_parts_are_computed(tmp_path, capsys):
    status, out, _ = run(capsys, "graph", "2**3 * a - 1/4", "a=2", "--out", str(tmp_path / "g.dot"))
    assert status == 0
    assert "= 15.75" in out and grads_printed(out) == {"a": 8.0}


def test_out_and_format_must_agree(capsys, tmp_path):
    status, _, err = run(capsys, "graph", "a", "a=1", "--out", str(tmp_path / "g.png"), "--format", "svg")
    assert status == 2 and "does not match" in err


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(ValueError, match="no value given"):
        main(["--debug", "graph", "a + b", "a=1"])


# -- demo and train ------------------------------------------------------------------------------


def test_demo_trains_the_tutorial_network_and_writes_every_file(tmp_path, capsys):
    folder = tmp_path / "demo"
    status, out, err = run(capsys, "demo", "--out", str(folder), "--no-progress")
    assert status == 0, err
    names = ["loss.png", "example-graph.svg", "chain-rule.txt", "network.svg", "backward.html",
             "weights.json"]
    for name in names:
        path = folder / name
        assert path.exists() and path.stat().st_size > 0, name
        assert str(path) in out
    assert (folder / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert re.search(r"^1500 steps in [0-9.]+ s \([0-9.e+-]+ ms a step, compiled\)$", out, re.M), out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("[")]
    preds = [float(r[-1]) for r in rows]
    targets = [float(r[-2]) for r in rows]
    assert targets == [0, 1, 1, 0]
    assert all(abs(p - t) < 0.1 for p, t in zip(preds, targets))  # the tutorial's converged predictions
    assert "final loss" in out
    weights = json.loads((folder / "weights.json").read_text())
    assert isinstance(weights, dict)


PLOT_NOTE = "it needs matplotlib, the plot extra (pip install chainrule[plot])"


def test_demo_and_train_without_matplotlib_skip_only_the_plots(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    status, out, err = run(capsys, "demo", "--out", str(tmp_path / "d"), "--no-progress", "--iterations", "9")
    assert status == 0, err
    assert [line for line in out.splitlines() if line.startswith("skipped")] == [
        f"skipped loss.png: {PLOT_NOTE}"]
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "backward.html", "chain-rule.txt", "example-graph.svg", "network.svg", "weights.json"]
    status, out, err = run(capsys, "train", "--out", str(tmp_path / "t"), "--no-progress", "--steps", "3",
                           "--samples", "20")
    assert status == 0, err
    assert [line for line in out.splitlines() if line.startswith("skipped")] == [
        f"skipped loss.png: {PLOT_NOTE}", f"skipped boundary.png: {PLOT_NOTE}"]
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["weights.json"]
    assert json.loads((tmp_path / "t" / "weights.json").read_text())["parameters"]


def test_demo_without_dot_writes_the_dot_sources_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no Graphviz 'dot' to run
    status, out, err = run(capsys, "demo", "--out", str(tmp_path / "d"), "--no-progress", "--iterations", "9")
    assert status == 0, err
    skipped = [line for line in out.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 3
    assert skipped[0].startswith("skipped backward.html: Graphviz's dot is not installed (install Graphviz")
    for line, name in zip(skipped[1:], ("example-graph", "network")):
        assert line.startswith(f"skipped {name}.svg: Graphviz's dot is not installed (install Graphviz")
        assert line.endswith(f"); wrote {name}.dot")
        assert (tmp_path / "d" / f"{name}.dot").read_text().startswith("digraph")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "chain-rule.txt", "example-graph.dot", "loss.png", "network.dot", "weights.json"]


def test_demo_is_deterministic(tmp_path, capsys):
    outs = []
    for k in range(2):
        run(capsys, "demo", "--out", str(tmp_path / f"d{k}"), "--no-progress", "--iterations", "20")
        outs.append((tmp_path / f"d{k}" / "chain-rule.txt").read_text())
        outs.append((tmp_path / f"d{k}" / "weights.json").read_text())
    assert outs[0] == outs[2] and outs[1] == outs[3]


def test_demo_rejects_bad_iterations(capsys, tmp_path):
    status, _, err = run(capsys, "demo", "--out", str(tmp_path), "--iterations", "0")
    assert status == 2 and "--iterations" in err


def test_train_moons_writes_curve_boundary_and_weights(tmp_path, capsys):
    folder = tmp_path / "t"
    status, out, err = run(capsys, "train", "--data", "moons", "--hidden", "8", "--steps", "30",
                           "--lr", "0.05", "--optimizer", "adam", "--out", str(folder), "--no-progress")
    assert status == 0, err
    for name in ("loss.png", "boundary.png", "weights.json"):
        assert (folder / name).read_bytes(), name
    assert "accuracy" in out


def test_train_defaults_fit_moons_as_the_readme_says(tmp_path, capsys):
    status, out, err = run(capsys, "train", "--data", "moons", "--out", str(tmp_path / "t"), "--no-progress")
    assert status == 0, err
    assert "adam lr=0.05" in out and "accuracy 100.0% after 100 steps" in out
    assert "100 steps in" in out and "compiled)" in out and "uncompiled" not in out


def test_train_spiral_uses_softmax_over_three_classes(tmp_path, capsys):
    folder = tmp_path / "t"
    status, out, err = run(capsys, "train", "--data", "spiral", "--hidden", "8", "--steps", "3",
                           "--lr", "0.05", "--optimizer", "adam", "--out", str(folder), "--no-progress")
    assert status == 0, err
    assert "3 classes" in out and "softmax_cross_entropy" in out and "-> 3 linear" in out
    assert "3 steps in" in out and "uncompiled)" in out  # softmax over class indices runs uncompiled
    assert (folder / "boundary.png").read_bytes()[:4] == b"\x89PNG"


def test_train_tutorial_has_no_boundary(tmp_path, capsys):
    folder = tmp_path / "t"
    status, out, err = run(capsys, "train", "--data", "tutorial", "--hidden", "4", "--activation", "sigmoid",
                           "--steps", "5", "--lr", "1.0", "--out", str(folder), "--no-progress")
    assert status == 0, err
    assert (folder / "loss.png").exists() and not (folder / "boundary.png").exists()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--hidden", "16,x"], "--hidden 16,x"),
        (["--hidden", "0"], "at least one neuron"),
        (["--steps", "0"], "--steps 0"),
        (["--lr", "-1"], "--lr -1"),
    ],
)
def test_train_errors(capsys, tmp_path, argv, words):
    status, _, err = run(capsys, "train", *argv, "--out", str(tmp_path / "t"), "--no-progress")
    assert status == 2 and words in err and len(err.strip().splitlines()) == 1


def test_unknown_dataset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", "mnist"])
    assert info.value.code == 2
    assert "invalid choice: 'mnist'" in capsys.readouterr().err


# -- help and entry points -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["demo", "graph", "train"])
def test_every_command_has_help_with_an_example(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and f"chainrule {command}" in out


def test_top_level_help_lists_the_commands_with_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "graph", "train"):
        assert f"chainrule {command}" in out


def test_python_dash_m_runs_the_same_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "graph", "a * b", "a=3", "b=4", "--out", str(tmp_path / "g.dot")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert grads_printed(result.stdout) == {"a": 4.0, "b": 3.0}


def test_python_dash_m_error_is_one_line_on_stderr():
    result = subprocess.run([sys.executable, "-m", "chainrule", "graph", "a.b", "a=1"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
