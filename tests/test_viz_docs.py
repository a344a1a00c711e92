"""docs/viz.md stays true: its explain example is what explain prints."""

import re
from pathlib import Path

from chainrule.autograd import Value
from chainrule.viz import explain

DOC = Path(__file__).resolve().parents[1] / "docs" / "viz.md"


def test_explain_example_in_the_docs_is_current():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * d
    L.label = "L"
    L.backward()
    blocks = re.findall(r"```text\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks[0].rstrip("\n") == explain(L)
    assert (a.grad, b.grad, c.grad) == (-24.0, 16.0, 8.0)
