"""The docs cannot go stale: their pictures are what the code draws now, every public name they
mention exists, and they point only inside the repository."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from chainrule import autograd, nn, viz

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md",
        ROOT / "examples" / "README.md"]


def load_make_images():
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_images = load_make_images()
PICTURES = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*")
                  if p.suffix in (".svg", ".png", ".jpg", ".gif", ".pdf"))


def test_every_picture_in_docs_is_made_by_the_script():
    assert PICTURES == sorted(make_images.DRAW) == sorted(make_images.SOURCES)


@pytest.mark.parametrize("name", PICTURES)
def test_each_committed_picture_is_what_the_code_draws_now(name):
    stamp = make_images.stamp_of(ROOT / "docs" / name)
    assert stamp is not None, f"docs/{name} has no fingerprint: run docs/make_images.py"
    assert stamp == make_images.fingerprint(name), (
        f"docs/{name} was drawn from older code: run .venv/bin/python docs/make_images.py {name}")


def test_the_stamps_survive_a_round_trip(tmp_path):
    png = (ROOT / "docs" / "images" / "practice.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    for name, data in (("x.svg", b'<?xml version="1.0"?>\n<svg/>\n'), ("x.png", png)):
        path = tmp_path / name
        path.write_bytes(make_images.stamped(name, data, "ab" * 32))
        assert make_images.stamp_of(path) == "ab" * 32


README_WIDTH = 830  # px: GitHub's README column, into which a wider picture is scaled down


def test_the_readme_hero_is_legible_at_the_readme_width_and_links_the_full_graph():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    hero = re.search(r"!\[[^\]]*\]\((docs/images/[^)]+\.svg)\)", readme).group(1)  # the first picture
    assert hero == "docs/images/neuron.svg"
    svg = (ROOT / hero).read_text(encoding="utf-8")
    width_pt = int(re.search(r'<svg width="(\d+)pt"', svg).group(1))
    scale = min(1.0, README_WIDTH / (width_pt * 4 / 3))  # dot's points are 4/3 of a CSS pixel
    smallest = min(float(f) for f in re.findall(r'font-size="([0-9.]+)"', svg)) * 4 / 3
    assert smallest * scale >= 9, (width_pt, smallest, scale)
    # the full-size scalar graph of one example is one click away
    assert "](docs/images/demo-graph.svg)" in readme


def test_every_picture_is_shown_in_the_docs_and_pages_are_small():
    shown = " ".join(p.read_text(encoding="utf-8") for p in DOCS)
    for name in PICTURES:
        assert f"images/{name.split('/')[-1]})" in shown, f"docs/{name} is in no document"
        if name.endswith(".png"):
            assert (ROOT / "docs" / name).stat().st_size < 200_000, name


# -- names ------------------------------------------------------------------------------------------

PACKAGES = {"autograd": autograd, "nn": nn, "viz": viz, "chainrule": chainrule}
FILES = ("py", "md", "ipynb", "json", "svg", "png", "html", "txt", "js", "css")


def mentioned_names(text: str) -> set[str]:
    """``viz.draw_graph``, ``nn.data.spirals``, ``autograd.methods.SOURCES``, ... in code spans and blocks."""
    code = " ".join(re.findall(r"```.*?```|`[^`\n]+`", text, flags=re.S))
    found = set()
    for m in re.finditer(r"(?<![\w./-])(chainrule|autograd|nn|viz)((?:\.[A-Za-z_]\w*)+)", code):
        parts = m.group(2).lstrip(".").split(".")
        if parts[-1] in FILES:  # a file such as nn.py or viz.md, not a name
            continue
        found.add(m.group(1) + "." + ".".join(parts))
    return found


def resolve(dotted: str) -> object:
    """The object ``dotted`` names, read as a module path as far as one exists (``viz.render`` is
    both a function and a module: ``viz.render.TIME_LIMIT`` is the module's); AttributeError if none."""
    first, *rest = dotted.split(".")
    base = PACKAGES[first].__name__
    for k in range(len(rest), -1, -1):
        try:
            obj = importlib.import_module(".".join([base, *rest[:k]]))
        except ImportError:
            continue
        try:
            for part in rest[k:]:
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return obj
    raise AttributeError(f"{dotted} names nothing in chainrule")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_public_name_the_docs_mention_exists(doc):
    missing = []
    for dotted in sorted(mentioned_names(doc.read_text(encoding="utf-8"))):
        try:
            resolve(dotted)
        except (AttributeError, ImportError):
            missing.append(dotted)
    assert not missing, f"{doc.name} mentions names that do not exist: {missing}"


def test_viz_docs_table_lists_only_real_functions():
    text = (ROOT / "docs" / "viz.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    rows = re.findall(r"`(\w+)\(", table)
    assert len(rows) >= 8
    assert [r for r in rows if not hasattr(viz, r)] == []
    prose = set(re.findall(r"`(\w+)` returns", text))  # e.g. "`decision_figure` returns ..."
    assert [r for r in prose if not hasattr(viz, r)] == []


def test_the_name_check_catches_a_missing_name():
    assert "viz.decision_figure_missing" in mentioned_names("see `viz.decision_figure_missing(...)`")
    with pytest.raises(AttributeError):
        resolve("viz.decision_figure_missing")
    assert mentioned_names("a student's `nn.py`, and `docs/viz.md`") == set()


# -- no pointers outside, no internal issue numbers -------------------------------------------------


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_point_only_inside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if re.match(r"[a-z]+://", target):
            continue
        assert (doc.parent / target).resolve().is_relative_to(ROOT), target
        assert (doc.parent / target).exists(), f"{doc.name} links to a missing {target}"
    assert "shared/" not in text, "shared/ is outside the repository"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_speak_of_no_internal_issue_numbers(doc):
    text = doc.read_text(encoding="utf-8")
    found = re.search(r".{0,30}\bissues? #?\d+", text, flags=re.I)
    assert found is None, found.group(0)


def test_docs_use_the_installed_names():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        old_names = r"^\s*(?:import (?:nn|viz|autograd)\b|from (?:nn|viz|autograd)\b[^\n]*import)"
        stale = re.findall(old_names, text, flags=re.M)
        assert not stale, (doc.name, stale)


def test_benchmark_samples_show_every_row_the_scripts_print():
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    engine = (ROOT / "benchmarks" / "bench_engine.py").read_text(encoding="utf-8")
    labels = [label for label in re.findall(r'_row\("([^"]*)"', engine) if label.strip()]
    assert len(labels) >= 8
    assert [label for label in labels if label not in readme] == []
    moons = (ROOT / "benchmarks" / "bench_moons.py").read_text(encoding="utf-8")
    printed = re.findall(r'print\(f?"([a-z]+):', engine + moons)
    assert {"check", "ratios", "workload", "chainrule"} <= set(printed)
    for prefix in printed:
        if prefix not in ("machine", "graph", "timing"):  # the engine's header, left out of the sample
            assert f"\n{prefix}:" in readme, prefix


def test_running_the_notebooks_leaves_no_untracked_files():
    written = set()
    for notebook in (ROOT / "examples").glob("*.ipynb"):
        text = notebook.read_text(encoding="utf-8")
        written |= set(re.findall(r'\\"([\w.-]+\.(?:png|svg|html|pdf|json))\\"', text))
    assert written, "the notebooks write files; the pattern should find them"
    paths = [f"examples/{name}" for name in sorted(written)]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert ignored == paths
