#!/usr/bin/env python3
"""Make every picture in docs/ from the current code: ``.venv/bin/python docs/make_images.py``.

Each picture is stamped with a fingerprint: the SHA-256 of the text it was drawn from (a
graph's DOT source; for a page's screenshot, the page's HTML and what is done to it before the
shot). ``tests/test_docs.py`` recomputes the fingerprints from the code as it is now and fails
when a committed picture was drawn from something else. For the graphs it never lays a graph
out again, so those do not depend on the installed Graphviz's version; the pages (practice,
stepper, training) embed dot's SVG, so a change to a page or to Graphviz's layout asks for
their screenshots to be made again. Needs Graphviz's ``dot``, and Chromium with playwright
for the screenshots (``python3 dev.py test`` installs both).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path

import graphviz

from chainrule import nn, viz
from chainrule.commands.demo import EXAMPLE_ROW, example_loss, trained
from chainrule.files import write_atomic

DOCS = Path(__file__).resolve().parent
KEY = "chainrule-fingerprint"


# -- what each picture is drawn from --------------------------------------------------------------


def demo_graph() -> graphviz.Digraph:
    """The README's picture: ``chainrule demo``'s graph of one example, after its training."""
    model = trained(iterations=1500, seed=1)
    X, y = nn.data.tutorial()
    loss = example_loss(model, X[EXAMPLE_ROW], float(y[EXAMPLE_ROW]))
    model.zero_grad()
    loss.backward()
    return viz.draw_graph(loss, collapse=False)


def define_op_graph() -> graphviz.Digraph:
    """The README's own-op picture: the graph that its define_op example draws, from that code."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    code = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if 'define_op("cube"' in b)
    namespace = {"__name__": "readme"}
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        os.chdir(tmp)  # the example writes cube.svg where it runs
        try:
            exec(compile(code, "README.md", "exec"), namespace)  # the repository's own README
        finally:
            os.chdir(here)
    return viz.draw_graph(namespace["y"])


def neuron_graph() -> graphviz.Digraph:
    """The README's hero: the lecture's neuron, o = tanh(x1*w1 + x2*w2 + b), with the lecture's
    numbers and names, after backward; small enough to read at the README's width."""
    from chainrule.autograd import Value

    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1w1x2w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return viz.draw_graph(o)


def viz_md_example() -> dict:
    """The names docs/viz.md's first example defines (``L`` and its inputs, after backward),
    from that code: the pictures of each view in docs/viz.md draw that graph."""
    text = (DOCS / "viz.md").read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    namespace = {"__name__": "viz_md"}
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the example writes L.svg where it runs
        try:
            exec(compile(code, "docs/viz.md", "exec"), namespace)  # the repository's own docs
        finally:
            os.chdir(here)
    return namespace


def trained_example() -> tuple[nn.MLP, object]:
    """``chainrule demo``'s trained network, after backward over the batch of four (what the
    network view shows), and its loss on the demo's one example (backward not run)."""
    model = trained(iterations=1500, seed=1)
    X, y = nn.data.tutorial()
    terms = [example_loss(model, x, float(t)) for x, t in zip(X, y)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    model.zero_grad()
    total.backward()
    return model, example_loss(model, X[EXAMPLE_ROW], float(y[EXAMPLE_ROW]))


def collapsed_graph() -> graphviz.Digraph:
    """The demo's one example drawn one node per neuron."""
    model, loss = trained_example()
    model.zero_grad()
    loss.backward()
    return viz.draw_graph(loss, collapse="neuron")


def network_graph() -> graphviz.Digraph:
    """The demo's network view: ∂loss/∂w summed over the four examples."""
    model, _ = trained_example()
    return viz.draw_network(model)


VIEWS: dict[str, Callable[[], graphviz.Digraph]] = {
    "images/neuron.svg": neuron_graph,
    "images/draw-dot.svg": lambda: viz.draw_dot(viz_md_example()["L"]),
    "images/draw-graph.svg": lambda: viz.draw_graph(viz_md_example()["L"]),
    "images/draw-graph-collapsed.svg": collapsed_graph,
    "images/draw-network.svg": network_graph,
    "images/draw-paths.svg": lambda: viz.draw_paths(*itemgetter("L", "a")(viz_md_example())),
    "images/draw-modes.svg": lambda: viz.draw_modes(*itemgetter("L", "a")(viz_md_example())),
}


@contextmanager
def _dot_for_layout() -> Iterator[None]:
    """Let graphs "lay out" as their DOT source, so a page's text depends only on chainrule."""
    original = graphviz.Digraph.pipe
    graphviz.Digraph.pipe = lambda self, *a, **k: f"<svg>{self.source}</svg>"  # type: ignore[method-assign]
    try:
        yield
    finally:
        graphviz.Digraph.pipe = original  # type: ignore[method-assign]


PRACTICE_RIGHT = 9  # questions answered right before the screenshot; the 10th gets a wrong answer
PRACTICE_WRONG = "0"  # x2 * w2 by x2: the input instead of the other operand, which the page diagnoses
VIEWPORT = {"width": 1900, "height": 700}


def practice_source() -> str:
    """The practice page for the lecture's neuron (graph as DOT) and what the screenshot types."""
    with _dot_for_layout():
        page = viz.practice_html("neuron")
    return f"{page}\nanswers: {PRACTICE_RIGHT} right, then {PRACTICE_WRONG!r}; viewport {VIEWPORT}\n"


STEPPER_FRAMES = 4  # frames the stepper's screenshot steps forward
TRAINING_SNAPSHOT = 20  # the training page's snapshot in its screenshot
PAGE_VIEWPORT = {"width": 1920, "height": 1000}  # full HD: the training page's whole network


def stepper_page() -> str:
    """The step-through page of docs/viz.md's example, as its screenshot shows it."""
    return viz.stepper_html(viz_md_example()["L"], title="backward of L")


def training_page() -> str:
    """The training page ``chainrule demo`` writes: the tutorial's network over 1,500 steps."""
    from chainrule.commands.demo import train

    model = nn.tutorial_network(seed=1)
    history = train(model, 1500, record_every=15)  # ~100 snapshots, as the demo records them
    return viz.training_html(model, history, title="the tutorial's network, training")


def page_source(page: Callable[[], str], actions: str) -> Callable[[], str]:
    """What a page's screenshot is drawn from: the page itself and what is done to it."""
    return lambda: f"{page()}\n{actions}; viewport {PAGE_VIEWPORT}\n"


SOURCES: dict[str, Callable[[], str]] = {
    "images/define-op.svg": lambda: define_op_graph().source,
    "images/demo-graph.svg": lambda: demo_graph().source,
    "images/practice.png": practice_source,
    "images/stepper.png": page_source(stepper_page, f"{STEPPER_FRAMES} frames forward"),
    "images/training.png": page_source(training_page, f"snapshot {TRAINING_SNAPSHOT}"),
    **{name: (lambda view=view: view().source) for name, view in VIEWS.items()},
}


def fingerprint(name: str) -> str:
    """The SHA-256 of what picture ``name`` is drawn from, as the code stands now."""
    return hashlib.sha256(SOURCES[name]().encode("utf-8")).hexdigest()


# -- stamping: an SVG comment, a PNG text chunk ---------------------------------------------------


def stamped(name: str, data: bytes, digest: str) -> bytes:
    if name.endswith(".svg"):
        head, sep, rest = data.partition(b"?>\n")  # after the XML declaration
        return head + sep + f"<!-- {KEY}: {digest} -->\n".encode() + rest
    body = KEY.encode() + b"\0" + digest.encode()
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return data[:33] + chunk + data[33:]  # after the 8-byte signature and the IHDR chunk


def stamp_of(path: Path) -> str | None:
    """The fingerprint a committed picture carries, or None."""
    data = path.read_bytes()
    marker = KEY.encode() + (b": " if path.suffix == ".svg" else b"\0")
    at = data.find(marker)
    return None if at < 0 else data[at + len(marker):at + len(marker) + 64].decode("ascii")


# -- drawing --------------------------------------------------------------------------------------


def draw_demo_graph(path: Path) -> bytes:
    return viz.render(demo_graph(), path).read_bytes()


def draw_practice(path: Path) -> bytes:
    """A screenshot of the practice page at question 10, just after a wrong answer was refused."""
    from chainrule.viz import exercise, lesson

    page_file = viz.write_practice("neuron", path.with_suffix(".html"))
    ex = exercise(lesson("neuron"))
    with _browser() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(page_file.as_uri())
        box = page.locator("div.chainrule-practice")
        for q in ex.questions[:PRACTICE_RIGHT]:
            box.locator(".crp-answer").fill(ex.show(q.expected))
            box.locator(".crp-answer").press("Enter")
        box.locator(".crp-answer").fill(PRACTICE_WRONG)
        box.locator(".crp-answer").press("Enter")
        return box.screenshot()


@contextmanager
def _browser() -> Iterator[object]:
    """Chromium, headless, as the tests drive it."""
    from playwright.sync_api import sync_playwright

    chromium = next(p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def screenshot(path: Path, html: str, box: str, prefix: str, steps: int) -> bytes:
    """A PNG of the page ``html``'s ``box`` after pressing its next button (class
    ``<prefix>-next``) ``steps`` times."""
    path.with_suffix(".html").write_text(html, encoding="utf-8")
    with _browser() as browser:
        page = browser.new_page(viewport=PAGE_VIEWPORT)
        page.goto(path.with_suffix(".html").as_uri())
        div = page.locator(box)
        for _ in range(steps):
            div.locator(f".{prefix}-next").click()
        return div.screenshot()


DRAW: dict[str, Callable[[Path], bytes]] = {
    "images/define-op.svg": lambda path: viz.render(define_op_graph(), path).read_bytes(),
    "images/demo-graph.svg": draw_demo_graph,
    "images/practice.png": draw_practice,
    "images/stepper.png": lambda path: screenshot(path, stepper_page(), "div.chainrule-stepper", "crs",
                                                  STEPPER_FRAMES),
    "images/training.png": lambda path: screenshot(path, training_page(), "div.chainrule-training", "crt",
                                                   TRAINING_SNAPSHOT),
    **{name: (lambda path, view=view: viz.render(view(), path).read_bytes()) for name, view in VIEWS.items()},
}


def main(names: list[str]) -> int:
    for name in names or list(DRAW):
        target = DOCS / name
        with tempfile.TemporaryDirectory() as tmp:
            data = stamped(name, DRAW[name](Path(tmp) / Path(name).name), fingerprint(name))
        write_atomic(target, data)
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
