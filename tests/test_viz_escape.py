"""Any label survives the DOT source, the SVG from the real dot, and the HTML page."""

import html.parser
import json
import subprocess

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_viz_support import groups, norm, parse_svg

from chainrule.autograd import Value, topo_order
from chainrule.viz import draw_dot, draw_graph, stepper_html
from chainrule.viz.escape import printable, script_json

NASTY = '"<>&{}|\\\n\t\r #;[]=-é漢😀\u200b\u2028\x00\x07\x85'
labels = st.text(alphabet=st.one_of(st.sampled_from(NASTY), st.characters()), max_size=16)
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_dot(source: str) -> bytes:
    """SVG from dot; fails on any error or warning, so a label cannot break the source quietly."""
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=30)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode("utf-8", "replace")
    return done.stdout


def graph_of(names: list[str]) -> Value:
    leaves = [Value(float(10 ** (i + 3)), label=name) for i, name in enumerate(names)]  # data tells apart
    out = leaves[0]
    for leaf in leaves[1:]:
        out = out * leaf + 1
    return out


def shown(texts: list[str], label: str) -> bool:
    return norm(" ".join(texts)).startswith(norm(printable(label)))


@FAST
@given(st.lists(labels, min_size=1, max_size=3))
# Found by this test: Graphviz 2.43's record parser loses a space after a multi-byte
# character, its HTML lexer rejects a text of just "]", and "." once made an empty module.
@example(["¡ 0"])
@example(["]"])
@example(["", "."])
@example(['a"b\\', "{x|y}", "<&amp;>", "\\N\\G"])
def test_labels_survive_dot_and_svg(names):
    out = graph_of(names)
    out.backward()
    nodes = topo_order(out)
    for draw in (draw_dot, draw_graph):
        svg = parse_svg(run_dot(draw(out).source))
        texts = groups(svg, "node")
        for i, v in enumerate(nodes):
            if v.is_leaf and not v.is_constant:
                node_texts = texts.get(f"v{i}") if draw is draw_graph else None
                if node_texts is None:  # draw_dot: find the record by its data field
                    node_texts = next(t for t in texts.values() if f"data {v.data:.4f}" in t)
                assert shown(node_texts, v.label), (draw.__name__, v.label, node_texts)


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.title, self.scripts, self.frames = [], "", 0, None

    def handle_starttag(self, tag, attrs):
        self.stack.append((tag, dict(attrs)))
        self.scripts += tag == "script"

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "title" and not any(t == "svg" for t, _ in self.stack):
            self.title += data
        if self.stack and self.stack[-1][1].get("class") == "crs-data":
            self.frames = json.loads(data)


@settings(max_examples=12, deadline=None)
@given(labels, labels)
def test_labels_survive_the_stepper_page(name, title):
    x = Value(2.0, label=name)
    out = x * x
    out.label = name + "!"
    page = stepper_html(out, title=title)
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.scripts == 2  # no label opened or closed a script
    assert norm(parser.title) == norm(printable(title))
    one_line = printable(name + "!").replace("\n", "\\n")
    assert parser.frames["frames"][0]["title"].startswith(one_line)
    assert all("\n" not in line for f in parser.frames["frames"] for line in f["lines"])
    svg = parse_svg(page[page.index("<svg"):page.index("</svg>") + 6])
    assert shown(groups(svg, "node", key="data-cr")["v0"], name)  # the page's SVG ids are data-cr


@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | labels,
                    lambda kids: st.lists(kids) | st.dictionaries(labels, kids), max_leaves=8))
def test_script_json_round_trips_and_hides_markup(obj):
    text = script_json(obj)
    assert json.loads(text) == obj
    assert not any(ch in text for ch in "<>&")


def test_odd_module_names_in_cluster_boxes_and_collapsed_nodes():
    from chainrule import nn

    name = 'n"<b>{|}\\ é]'
    neuron = nn.Neuron(2, activation="tanh", name=name, seed=0)
    out = neuron([1.0, -2.0])
    out.backward()
    boxed = parse_svg(run_dot(draw_graph(out).source))
    assert [norm(t[0]) for t in groups(boxed, "cluster").values()] == [norm(name)]
    collapsed = parse_svg(run_dot(draw_graph(out, collapse="neuron").source))
    assert groups(collapsed, "node")["n0"][0] == name
    assert any(t and t[0].startswith("w.0 = ") for t in groups(collapsed, "edge").values())
