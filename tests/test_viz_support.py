"""Shared helpers for the viz tests (no tests here): example graphs and SVG reading."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chainrule.autograd import Value

SVG = "{http://www.w3.org/2000/svg}"


def small_expression():
    """The lecture's neuron-ish expression, with a value used twice and a constant."""
    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    b = Value(6.8813735870195432, label="b")
    xw = x * w
    n = xw + b
    n.label = "n"
    o = (n * x).tanh() + 2 * x - x / w
    o.label = "o"
    return o, {"x": x, "w": w, "b": b, "n": n}


def tutorial_by_hand(x=(1.0, 0.0, 1.0)):
    """A 3 -> 4 sigmoid -> 1 sigmoid network built from Values with nn's labels."""
    w1 = [[0.417, 0.7203, 0.0001, 0.3023], [0.1468, 0.0923, 0.1863, 0.3456], [0.3968, 0.5388, 0.4192, 0.6852]]
    w2 = [0.2045, 0.8781, 0.0274, 0.6705]
    xs = [Value(v, label=f"x.{i}") for i, v in enumerate(x)]
    hidden = []
    for j in range(4):
        ws = [Value(w1[i][j], label=f"layers.0.neurons.{j}.w.{i}") for i in range(3)]
        act = ws[0] * xs[0]
        for w, xi in zip(ws[1:], xs[1:]):
            act = act + w * xi
        h = act.sigmoid()
        h.label = f"layers.0.neurons.{j}"
        hidden.append(h)
    ws = [Value(w2[j], label=f"layers.1.neurons.0.w.{j}") for j in range(4)]
    act = ws[0] * hidden[0]
    for w, h in zip(ws[1:], hidden[1:]):
        act = act + w * h
    out = act.sigmoid()
    out.label = "layers.1.neurons.0"
    return out, xs, hidden


def parse_svg(svg: bytes | str):
    """The SVG's root element (fails the test if the SVG is not well-formed XML)."""
    return ET.fromstring(svg.encode("utf-8") if isinstance(svg, str) else svg)


def groups(root, cls: str, key: str = "id", raw: bool = False) -> dict[str, list[str]]:
    """id (or the attribute ``key``) -> the text lines of every ``<g class=cls>`` group, with
    the lines viz.style.wrap broke joined again (unless ``raw``)."""
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == cls:
            texts = ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
            out[g.get(key)] = texts if raw else unwrap(texts)
    return out


def unwrap(lines: list[str]) -> list[str]:
    """``lines`` with each continuation (a line starting ``= `` or ``+ ``, as viz.style.wrap
    starts them) joined to the line above."""
    out: list[str] = []
    for line in lines:
        if out and (line.startswith("= ") or line.startswith("+ ")):
            out[-1] += " " + line
        else:
            out.append(line)
    return out


def norm(text: str) -> str:
    """Whitespace collapsed, as Graphviz lays text out."""
    return " ".join(text.split())


def dot_clusters(source: str) -> dict[str, tuple[str, set[str]]]:
    """cluster id -> (its label, ids of the nodes declared inside it, nested ones included)."""
    import re

    stack: list[str] = []
    out: dict[str, tuple[str, set[str]]] = {}
    pending = None
    for line in source.splitlines():
        s = line.strip()
        m = re.match(r"subgraph (cluster_\w+) \{", s)
        if m:
            stack.append(m.group(1))
            pending = m.group(1)
            continue
        if pending and s.startswith("label="):
            out[pending] = (re.match(r'label="([^"]*)"', s).group(1), set())
            pending = None
            continue
        if s == "}" and stack:
            stack.pop()
            continue
        m = re.match(r"([vn]\d+) \[", s)
        if m:
            for c in stack:
                out[c][1].add(m.group(1))
    return out


def stroke(root, edge_id: str) -> tuple[str, float]:
    """(colour, width) of an edge's path in the SVG."""
    for g in root.iter(f"{SVG}g"):
        if g.get("id") == edge_id:
            path = g.find(f"{SVG}path")
            return path.get("stroke").lower(), float(path.get("stroke-width", "1"))
    raise KeyError(edge_id)


def shape_fill(root, node_id: str) -> tuple[str, str]:
    """(tag, fill) of a node's outline shape in the SVG ('' if the node has none)."""
    for g in root.iter(f"{SVG}g"):
        if g.get("id") == node_id:
            for child in g:
                tag = child.tag.replace(SVG, "")
                if tag in ("polygon", "path", "ellipse"):
                    return tag, (child.get("fill") or "").lower()
            return "", ""
    raise KeyError(node_id)
