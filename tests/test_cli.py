"""The ``chainrule`` command: every command's output files and every error's message and status."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chainrule import nn
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
        (["log(a)", "a=-1"], "log(-1.0)"),  # exit 1: a valid expression without a real value
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
    # A usage error (the expression or a binding) is 2; a valid expression whose value is not a
    # real float (overflow, a domain error, division by zero) is 1.
    failed = ("log(-1.0)", "overflows", "division by zero", "not a real number")
    assert status == (1 if words in failed else 2), err
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
        "backward.html", "chain-rule.txt", "example-graph.svg", "network.svg", "training.html",
        "weights.json"]
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
    assert len(skipped) == 4
    assert skipped[0].startswith("skipped backward.html: Graphviz's dot is not installed (install Graphviz")
    assert skipped[3].startswith("skipped training.html: Graphviz's dot is not installed (install Graphviz")
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
    assert main(["train", "--data", "mnist"]) == 2
    assert "unknown dataset 'mnist'; choose one of tutorial, moons, circles, spirals, blobs" in (
        capsys.readouterr().err)


# -- help and entry points -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["demo", "graph", "train"])
def test_every_command_has_help_with_an_example(capsys, command):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "example" in out and f"chainrule {command}" in out


def test_top_level_help_lists_the_commands_with_examples(capsys):
    assert main(["--help"]) == 0
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


@pytest.mark.skipif(os.name != "posix", reason="a closed pipe's EPIPE is POSIX")
@pytest.mark.parametrize("argv", [["practice", "--list"], ["graph", "a*b", "a=3", "b=4", "--explain",
                                                            "--format", "dot"]])
def test_a_closed_pipe_stops_quietly(tmp_path, argv):
    # chainrule ... | head: the reader is gone before chainrule writes; no error line for that
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "chainrule", *argv], stdout=write,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120)
    finally:
        os.close(write)
    assert proc.stderr == ""
    assert proc.returncode == 1


def test_python_dash_m_error_is_one_line_on_stderr():
    result = subprocess.run([sys.executable, "-m", "chainrule", "graph", "a.b", "a=1"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


# -- the rough edges: one name per dataset, strict lists, divergence, one-line usage errors ------


@pytest.mark.parametrize("name", ["spirals", "spiral"])
def test_spirals_is_the_cli_and_api_name_and_spiral_an_alias(tmp_path, capsys, name):
    assert "spirals" in nn.data.DATASETS and nn.data.dataset_name("spiral") == "spirals"
    status, out, err = run(capsys, "train", "--data", name, "--hidden", "4", "--steps", "2",
                           "--samples", "30", "--no-progress", "--out", str(tmp_path))
    assert status == 0, err
    assert " on spirals (30 points, 3 classes)" in out


@pytest.mark.parametrize("hidden, words", [
    ("16,,16", "--hidden 16,,16: size 2 is empty"),
    ("16,", "--hidden 16,: size 2 is empty"),
    ("", "--hidden : size 1 is empty"),
    ("16,x", "--hidden 16,x: size 2 is 'x'"),
    ("16,-3", "--hidden 16,-3: size 2 is '-3'"),
    ("16,0", "--hidden 16,0: every layer needs at least one neuron"),
])
def test_malformed_hidden_sizes_are_refused(capsys, tmp_path, hidden, words):
    status, out, err = run(capsys, "train", f"--hidden={hidden}", "--out", str(tmp_path))
    assert status == 2 and err == f"chainrule train: {words}" + (
        "" if "neuron" in words else "; give positive whole numbers separated by commas, e.g. 16,16") + "\n"
    assert not (tmp_path / "weights.json").exists()


def test_a_diverging_run_stops_and_keeps_the_last_finite_weights(capsys, tmp_path):
    status, out, err = run(capsys, "train", "--lr", "100", "--steps", "100", "--no-progress", "--out",
                           str(tmp_path))
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("chainrule train: training diverged: ")
    assert "try a smaller learning rate, e.g. --lr 10 (the weights from before it diverged are in " in err
    step = int(re.search(r"at step (\d+)", err).group(1))
    assert step >= 1
    # Replay the run with plain fit: the weights kept are those the last acceptable loss was
    # computed from, the weights after step - 1 updates.
    X, y = nn.data.moons(100, seed=0)
    model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=0)
    if step > 1:
        nn.fit(model, X, 2.0 * y - 1.0, loss="hinge", optimizer=nn.Adam(model.parameters(), lr=100.0),
               epochs=step - 1, progress=False, seed=0)
    saved = json.loads((tmp_path / "weights.json").read_text())["parameters"]
    assert saved == model.state_dict()
    assert all(math.isfinite(v) for v in saved.values())


def test_a_non_finite_loss_is_a_divergence_not_a_crash(capsys, tmp_path, monkeypatch):
    real = nn.Adam.step
    calls = []

    def blows_up(self):
        lr = real(self)
        calls.append(1)
        if len(calls) == 3:  # finite but huge weights: the next loss overflows to inf or nan
            for p in self.parameters:
                p.data = 1e200
        return lr

    monkeypatch.setattr(nn.Adam, "step", blows_up)
    status, _, err = run(capsys, "train", "--steps", "10", "--no-progress", "--out", str(tmp_path))
    assert status == 1 and err.count("\n") == 1
    assert re.search(r"training diverged: the loss is (inf|nan) at step 3; try a smaller learning rate", err)
    saved = json.loads((tmp_path / "weights.json").read_text())["parameters"]
    assert all(abs(v) < 1e3 for v in saved.values())  # the weights from before the blow-up


@pytest.mark.parametrize("argv, words", [
    (["train", "--data", "mooons"], "chainrule train: argument --data: unknown dataset 'mooons'; choose one"),
    (["train", "--steps", "x"], "chainrule train: argument --steps: invalid int value: 'x'"),
    (["train", "--bogus"], "chainrule: unrecognized arguments: --bogus"),
    (["graph"], "chainrule graph: the following arguments are required: expr"),
    (["nothing"], "chainrule: argument COMMAND: invalid choice: 'nothing'"),
    ([], "chainrule: the following arguments are required: COMMAND"),
])
def test_every_usage_error_is_one_line_with_exit_2(capsys, argv, words):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith(words) and err.count("\n") == 1 and "usage:" not in err


def test_graph_without_dot_names_the_cli_way_out(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    status, out, err = run(capsys, "graph", "a*b", "a=2", "b=3", "--out", str(tmp_path / "g.svg"))
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("chainrule graph: Graphviz's dot is not installed (install Graphviz")
    assert err.endswith("so no svg file; write the graph's DOT source instead with --format dot\n")
    status, out, err = run(capsys, "graph", "a*b", "a=2", "b=3", "--format", "dot",
                           "--out", str(tmp_path / "g.dot"))
    assert status == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


@pytest.mark.parametrize("expr, bindings, part", [
    ("a*a", ["a=1e200"], "'a*a' at column 1"),
    ("2 + a*a*0.5", ["a=1e200"], "'a*a' at column 5"),
    ("exp(a) + 1", ["a=1000"], "'exp(a)' at column 1"),
    ("-(a*a)", ["a=1e200"], "'a*a' at column 3"),
])
def test_a_result_beyond_a_float_is_exit_1_naming_the_part(capsys, tmp_path, expr, bindings, part):
    status, out, err = run(capsys, "graph", expr, *bindings, "--format", "dot",
                           "--out", str(tmp_path / "g.dot"))
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("chainrule graph: ") and err.rstrip("\n").endswith(part), err
    assert not (tmp_path / "g.dot").exists()


def test_a_gradient_beyond_a_float_is_exit_1(capsys, tmp_path):
    # log(a) is finite at the smallest float, but its derivative 1/a is not
    status, out, err = run(capsys, "graph", "log(a)", "a=5e-324", "--format", "dot",
                           "--out", str(tmp_path / "g.dot"))
    assert status == 1 and err == "chainrule graph: the gradient d/da is inf, beyond a float\n"


def test_no_warning_line_before_a_syntax_error(tmp_path):
    argv = ["-W", "default", "-m", "chainrule", "graph", "1if", "--format", "dot"]
    proc = subprocess.run([sys.executable, *argv],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("chainrule graph: not a valid expression (invalid decimal literal) "
                           "at column 1: '1if'\n")


@pytest.mark.parametrize("argv", [
    ["graph", "-a", "a=2"],
    ["graph", "-a*b", "a=2", "b=3", "--format", "dot"],
    ["graph", "--format", "dot", "-a*b", "a=2", "b=3"],
    ["graph", "--", "-a*b", "a=2", "b=3"],
])
def test_a_leading_minus_is_the_expression(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    grads = grads_printed(out)
    assert grads["a"] == (-1.0 if len(argv) == 3 else -3.0)


def test_names_are_matched_as_typed(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "graph", "ﬁ*2", "ﬁ=3", "--format", "dot")
    assert status == 0, err
    assert out.splitlines()[0] == "ﬁ*2 = 6" and grads_printed(out) == {"ﬁ": 2.0}
    # 'fi' is another name than 'ﬁ', though Python's parser would fold them together
    status, _, err = run(capsys, "graph", "fi*2", "ﬁ=3", "--format", "dot")
    assert status == 2 and "no value given for 'fi'" in err
