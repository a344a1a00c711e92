"""SLOW: the wheel built from this repository, installed into fresh virtual environments.

A user gets the wheel, not the editable checkout, and may already have HIPS autograd (a
dependency of widely used packages) in the same environment. For each install order this
builds nothing new: one wheel for the module, one fresh venv per order, and pip's cache.
It runs in CI like every other test (marked ``install`` so ``-m "not install"`` can leave
it out while developing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[1]
# What the wheel is built from; copied out so the build leaves no build/ or egg-info here.
SOURCES = ("autograd", "nn", "viz", "chainrule", "setup.cfg", "pyproject.toml", "README.md", "LICENSE")
DEMO_FILES = ["loss.png", "backward.html", "chain-rule.txt", "example-graph.svg", "network.svg",
              "training.html", "weights.json"]
BIN = "Scripts" if os.name == "nt" else "bin"

# A student's own files named like chainrule's parts; importing any of them is a failure.
STUDENT_FILES = {
    name: f'raise ImportError("the student\'s {name} was imported")\n'
    for name in ("nn.py", "viz.py", "autograd.py")
}

HIPS_CHECK = """
import math
import autograd, autograd.numpy as anp
from autograd import grad
d = grad(lambda x: anp.tanh(x) * x)(0.5)
t = math.tanh(0.5)
assert abs(d - (t + 0.5 * (1 - t * t))) < 1e-12, d
assert "chainrule" not in autograd.__file__, autograd.__file__
print("hips ok")
"""

CHAINRULE_CHECK = """
import math
import chainrule
from chainrule import Value, nn, viz
from chainrule.autograd import Value as EngineValue
assert Value is EngineValue
x = Value(0.5)
y = x.tanh() * x
y.backward()
t = math.tanh(0.5)
assert abs(x.grad - (t + 0.5 * (1 - t * t))) < 1e-12, x.grad
assert nn.MLP(2, [3, 1], seed=0)([1.0, 2.0]).data == nn.MLP(2, [3, 1], seed=0)([1.0, 2.0]).data
assert callable(viz.draw_graph)
print("chainrule ok", chainrule.__version__)
"""


def run(cmd: list, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    """Run ``cmd`` in ``cwd`` (never the repository, whose autograd/ would shadow the installed one);
    when ``ok``, a non-zero exit fails the test with the full output."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)
    if ok and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
                    f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, src], cwd=out)
    (built,) = out.glob("chainrule-*.whl")
    return built


def venv(where: Path) -> tuple[Path, Path]:
    """A fresh virtual environment: its python and its bin folder.

    Without its own pip (ensurepip is the slowest part of making one): this pip installs into
    it with ``--python``.
    """
    run([sys.executable, "-m", "venv", "--without-pip", where], cwd=where.parent)
    bindir = where / BIN
    return bindir / "python", bindir


def pip(python: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pip", "--python", python, *args], cwd=cwd)


def pip_install(python: Path, *what) -> None:
    pip(python, "install", "-q", *what, cwd=python.parent)


def readme_snippets() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


# Where each source folder goes in the wheel (setup.cfg's package_dir).
INSTALLED_AS = {"chainrule": "chainrule", "autograd": "chainrule/autograd", "nn": "chainrule/nn",
                "viz": "chainrule/viz"}


def test_the_wheel_holds_every_file_of_the_package_and_nothing_else(wheel):
    # setup.cfg lists packages and data patterns by hand: a new subpackage or a new kind of
    # file the code opens beside itself (viz's .js/.css/.html) would otherwise go missing.
    names = set(zipfile.ZipFile(wheel).namelist())
    want = {f"{INSTALLED_AS[folder]}/{p.relative_to(ROOT / folder).as_posix()}"
            for folder in INSTALLED_AS for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert want - names == set()
    assert {n for n in names if not n.startswith("chainrule-")} == want
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"chainrule"}


@pytest.mark.parametrize("order", ["chainrule first", "autograd first"])
def test_wheel_installs_beside_hips_autograd(order, wheel, tmp_path):
    python, bindir = venv(tmp_path / "venv")
    if order == "chainrule first":
        pip_install(python, wheel)
        pip_install(python, "autograd")
    else:
        pip_install(python, "autograd")
        pip_install(python, wheel)
    pip(python, "check", cwd=tmp_path)
    listing = pip(python, "show", "-f", "chainrule", cwd=tmp_path).stdout
    top = {line.strip().split("/")[0] for line in listing.splitlines() if line.startswith("  ")}
    assert {t for t in top if not t.endswith((".dist-info", ".."))} == {"chainrule"}, top

    # Both packages work, each under its own name.
    assert run([python, "-c", HIPS_CHECK], cwd=tmp_path).stdout.strip() == "hips ok"
    assert run([python, "-c", CHAINRULE_CHECK], cwd=tmp_path).stdout.startswith("chainrule ok")
    assert "usage: chainrule" in run([bindir / "chainrule", "--help"], cwd=tmp_path).stdout

    # A student's nn.py, viz.py, autograd.py in the working folder are never imported.
    student = tmp_path / "student"
    student.mkdir()
    for name, text in STUDENT_FILES.items():
        (student / name).write_text(text, encoding="utf-8")
    graphed = run([python, "-m", "chainrule", "graph", "tanh(a*b + c)", "a=2", "b=-3", "c=10",
                   "--format", "dot", "--out", "g.dot"], cwd=student)
    assert "d/da" in graphed.stdout and (student / "g.dot").exists()
    run([python, "-m", "chainrule", "--help"], cwd=student)
    trained = run([python, "-m", "chainrule", "train", "--data", "moons", "--steps", "2", "--samples", "20",
                   "--no-progress", "--out", "trained"], cwd=student)
    # No matplotlib yet: the weights are written, each plot is skipped with one line naming the extra.
    assert (student / "trained" / "weights.json").exists()
    assert [line for line in trained.stdout.splitlines() if line.startswith("skipped")] == [
        f"skipped {name}: it needs matplotlib, the plot extra (pip install chainrule[plot])"
        for name in ("loss.png", "boundary.png")
    ]

    # The README's Python examples run against the installed wheel.
    readme = tmp_path / "readme"
    readme.mkdir()
    for i, code in enumerate(readme_snippets()):
        if "import torch" in code:  # needs the torch extra; tests/test_readme.py runs it
            continue
        (readme / f"snippet{i}.py").write_text(code, encoding="utf-8")
        run([python, f"snippet{i}.py"], cwd=readme)
    assert (readme / "out.svg").exists() and (readme / "out.html").exists()

    # A plain install runs the demo: every file but the loss curve, and one line naming the extra.
    bare = run([bindir / "chainrule", "demo", "--iterations", "30", "--no-progress", "--out", "bare"],
               cwd=tmp_path)
    assert [line for line in bare.stdout.splitlines() if line.startswith("skipped")] == [
        "skipped loss.png: it needs matplotlib, the plot extra (pip install chainrule[plot])"
    ]
    assert sorted(p.name for p in (tmp_path / "bare").iterdir()) == DEMO_FILES[1:]

    # The demo with the plot extra writes everything, the loss curve included.
    pip_install(python, f"{wheel}[plot]")
    demo = run([bindir / "chainrule", "demo", "--iterations", "30", "--no-progress", "--out", "full"],
               cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == sorted(DEMO_FILES), demo.stdout
    assert all(p.stat().st_size > 0 for p in (tmp_path / "full").iterdir())

    # Removing HIPS autograd leaves chainrule whole.
    pip(python, "uninstall", "-y", "-q", "autograd", cwd=tmp_path)
    assert run([python, "-c", CHAINRULE_CHECK], cwd=tmp_path).stdout.startswith("chainrule ok")


def test_dev_py_prints_one_line_per_step_and_a_failing_step_in_full(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in (*SOURCES, "dev.py", "constraints.txt"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, clone / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, clone / name)
    setup = [sys.executable, "-c", "import dev; dev.ensure_venv('plot')"]
    done = run(setup, cwd=clone)
    assert done.stdout == "[dev] creating .venv\n[dev] installing chainrule[plot] into .venv\n"
    assert done.stderr == ""
    assert run([clone / ".venv" / BIN / "chainrule", "--help"], cwd=tmp_path).returncode == 0
    # A step that fails shows everything pip said, then one line naming the step.
    cfg = clone / "setup.cfg"
    cfg.write_text(cfg.read_text().replace("numpy>=1.24", "numpy>=>1.24"))
    failed = run(setup, cwd=clone, ok=False)
    assert failed.returncode != 0
    assert failed.stdout.startswith("[dev] installing chainrule[plot] into .venv\n")
    assert "numpy>=>1.24" in failed.stdout  # pip's own diagnosis
    assert failed.stderr.startswith("[dev] installing failed: ") and failed.stderr.count("\n") == 1
