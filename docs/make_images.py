#!/usr/bin/env python3
"""Make every picture in docs/ from the current code: ``.venv/bin/python docs/make_images.py``.

Each picture is stamped with a fingerprint: the SHA-256 of the text it was drawn from (a
graph's DOT source; for the practice page, the page with its graph as DOT source, and the
answers typed). ``tests/test_docs.py`` recomputes the fingerprints from the code as it is now
and fails when a committed picture was drawn from something else; it never lays a graph out
again, so it does not depend on the installed Graphviz's version. Needs Graphviz's ``dot``,
and Chromium with playwright for the practice screenshot (``python3 dev.py test`` installs both).
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


SOURCES: dict[str, Callable[[], str]] = {
    "images/define-op.svg": lambda: define_op_graph().source,
    "images/demo-graph.svg": lambda: demo_graph().source,
    "images/practice.png": practice_source,
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
    from playwright.sync_api import sync_playwright

    from chainrule.viz import exercise, lesson

    page_file = viz.write_practice("neuron", path.with_suffix(".html"))
    ex = exercise(lesson("neuron"))
    chromium = next(p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(page_file.as_uri())
        box = page.locator("div.chainrule-practice")
        for q in ex.questions[:PRACTICE_RIGHT]:
            box.locator(".crp-answer").fill(ex.show(q.expected))
            box.locator(".crp-answer").press("Enter")
        box.locator(".crp-answer").fill(PRACTICE_WRONG)
        box.locator(".crp-answer").press("Enter")
        data = box.screenshot()
        browser.close()
    return data


DRAW: dict[str, Callable[[Path], bytes]] = {
    "images/define-op.svg": lambda path: viz.render(define_op_graph(), path).read_bytes(),
    "images/demo-graph.svg": draw_demo_graph,
    "images/practice.png": draw_practice,
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
