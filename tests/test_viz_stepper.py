"""The backward step-through page: its frames against the engine, then in headless Chromium."""

import math
import re
from pathlib import Path

import pytest
from test_viz_support import small_expression

from chainrule.autograd import Value, topo_order
from chainrule.viz import stepper_html, write_stepper
from chainrule.viz.stepper import frames
from chainrule.viz.trace import trace


def last_number(text: str) -> float:
    return float(re.findall(r"-?\d+(?:\.\d*)?(?:e[+-]?\d+)?", text)[-1])


def test_frames_follow_backward_and_end_at_the_engine_grads():
    o, vals = small_expression()
    o.backward()
    nodes = topo_order(o)
    t = trace(o)
    fs = frames(t)
    assert list(t.backward_order()) == list(reversed(range(len(nodes))))
    assert [s.node for s in t.edges] == sorted((s.node for s in t.edges), reverse=True)
    assert [f["node"] for f in fs] == [f"v{i}" for i in reversed(range(len(nodes)))]
    shown = {}
    for f in fs:
        i = int(f["node"][1:])
        v = nodes[i]
        assert f["edges"] == ([f"e{i}op"] + [f"e{i}_{s}" for s in range(len(v._prev))] if v._prev else [])
        # a node passes its grad on only once all of its users have passed theirs to it
        if f is not fs[0] and not v.is_constant:
            assert math.isclose(last_number(shown[f["node"]]), v.grad, rel_tol=1e-3, abs_tol=1e-12)
        shown.update(f["set"])
        assert len(f["lines"]) == (3 * len(v._prev) if v._prev else 1) + (f is fs[0])
    for i, v in enumerate(nodes):
        if not v.is_constant:
            assert math.isclose(last_number(shown[f"v{i}"]), v.grad, rel_tol=1e-3, abs_tol=1e-12)


def test_page_is_self_contained(tmp_path):
    o, _ = small_expression()
    page = write_stepper(o, tmp_path / "step.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and page.count("<script") == 2 and page.count("<style>") == 1
    without_ns = re.sub(r'xmlns(:xlink)?="http://www\.w3\.org/[^"]*"', "", page)
    assert "http:" not in without_ns and "https:" not in without_ns
    assert not re.search(r"<(script|link|img)[^>]*(src|href)=", page)


def test_bad_arguments():
    with pytest.raises(TypeError, match="write_stepper"):
        stepper_html("x")
    with pytest.raises(ValueError, match="interval_ms"):
        stepper_html(Value(1.0) * 2, interval_ms=0)
    x = Value(1.0)
    for _ in range(20):
        x = x * 1.5
    with pytest.raises(ValueError, match="41 nodes, more than max_nodes=40"):
        stepper_html(x, max_nodes=40)


def test_same_graph_same_page():
    o, _ = small_expression()
    assert stepper_html(o) == stepper_html(small_expression()[0])



def open_page(browser, path: Path, width: int, height: int):
    """A new page showing ``path``, and the lists it records its requests and script errors in."""
    page = browser.new_page(viewport={"width": width, "height": height})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def node_texts(page, k: int, within: str = "") -> dict[str, str]:
    """id -> the k-th text line of every value node (-1: the grad row, 0: the title)."""
    return page.evaluate("""([k, within]) => Object.fromEntries(
        [...document.querySelectorAll(within + ' g.node')]
        .map(g => [g.dataset.cr, [...g.querySelectorAll('text')].map(t => t.textContent)])
        .filter(([id, ts]) => /^v[0-9]+$/.test(id) && ts.length > 1)
        .map(([id, ts]) => [id, ts.at(k)]))""", [k, within])


def test_labels_starting_with_grad_keep_their_title(browser, tmp_path):
    # A title starting with "grad" once passed for the grad row: the page overwrote the
    # title and never updated the real grad line.
    a = Value(2.0, label="gradient")
    b = Value(3.0, label="grad 0")
    c = a * b
    c.label = "grad c"
    path = write_stepper(c, tmp_path / "step.html")
    page, _, errors = open_page(browser, path, 1000, 600)
    ids = {v.label: f"v{i}" for i, v in enumerate(topo_order(c))}
    titles = {ids["gradient"]: "gradient", ids["grad 0"]: "grad 0", ids["grad c"]: "grad c (output)"}
    assert {i: node_texts(page, 0)[i] for i in titles} == titles
    page.keyboard.press("Home")
    assert node_texts(page, -1) == {ids["gradient"]: "grad 3", ids["grad 0"]: "grad 2",
                                    ids["grad c"]: "grad 1"}
    assert {i: node_texts(page, 0)[i] for i in titles} == titles  # the titles were not touched
    assert errors == []
    page.close()


def test_page_refuses_an_svg_whose_last_text_is_not_the_grad_row():
    from chainrule.viz.stepper import _check_grad_rows

    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><g id="v0" class="node"><text>grad 1</text>'
           '<text>data 2</text></g></svg>')
    with pytest.raises(RuntimeError, match="last text of node v0 is 'data 2', not its grad row 'grad 1'"):
        _check_grad_rows(svg, {"v0": "grad 1"})
    _check_grad_rows(svg.replace("<text>data 2</text>", ""), {"v0": "grad 1"})


def test_step_through_in_a_real_browser(browser, tmp_path):
    o, vals = small_expression()
    o.backward()
    nodes = topo_order(o)
    t = trace(o)
    path = write_stepper(o, tmp_path / "step.html", interval_ms=40)
    page, requests, errors = open_page(browser, path, 1300, 800)

    def current() -> str:
        return page.eval_on_selector(".node.current", "e => e.dataset.cr")

    def grads() -> dict:
        return node_texts(page, -1)

    def box(node_id: str):
        return page.eval_on_selector(f'[data-cr="{node_id}"]',
                                     "e => { const b = e.getBBox(); return [b.x, b.y]; }")

    order = [f"v{i}" for i in reversed(range(len(nodes)))]
    assert current() == order[0]
    first = grads()
    assert first[order[0]] == "grad 1"
    assert sum(1 for s in first.values() if s == "grad ?") < len(first) - 1  # the root's operands got theirs
    where = box("v0")

    page.click(".crs-next")
    assert current() == order[1]
    active = page.eval_on_selector_all(".edge.active", "es => es.map(e => e.dataset.cr)")
    i = int(order[1][1:])
    assert sorted(active) == sorted([f"e{i}op"] + [f"e{i}_{s}" for s in range(len(nodes[i]._prev))])
    after = grads()
    for s in t.edges_of(i):
        if not nodes[s.child].is_constant:
            assert math.isclose(last_number(after[f"v{s.child}"]), s.total, rel_tol=1e-3)
    assert "×" in page.text_content(".crs-arith")

    page.keyboard.press("ArrowRight")
    assert current() == order[2]
    page.keyboard.press("ArrowLeft")
    assert current() == order[1]
    assert box("v0") == where  # nothing moves between frames

    page.eval_on_selector(".crs-slider", "e => { e.value = '4'; e.dispatchEvent(new Event('input')); }")
    assert current() == order[4]

    page.keyboard.press("End")
    final = grads()
    for k, v in enumerate(nodes):
        if not v.is_constant:
            assert math.isclose(last_number(final[f"v{k}"]), v.grad, rel_tol=1e-3, abs_tol=1e-12), (k, final)
    assert page.text_content(".crs-counter") == f"step {len(nodes)} / {len(nodes)}"

    page.keyboard.press("Home")
    page.click(".crs-play")
    last = len(nodes) - 1
    page.wait_for_function(f"document.querySelector('.chainrule-stepper').dataset.step === '{last}'",
                           timeout=10_000)
    assert page.text_content(".crs-play") == "play"  # it stopped by itself at the end
    assert errors == []
    assert requests == [path.as_uri()]  # nothing fetched from anywhere
    page.close()


def test_two_steppers_on_one_page_keys_only_with_focus_and_fit_to_width(browser, tmp_path):
    o, _ = small_expression()
    a = Value(3.0, label="a")
    b = a * a + a
    b.label = "b"
    page_html = ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                 '<input class="elsewhere" type="text">'
                 + stepper_html(o, full_page=False, interval_ms=40) + stepper_html(b, full_page=False)
                 + "</body></html>")
    path = tmp_path / "two.html"
    path.write_text(page_html, encoding="utf-8")
    page, _, errors = open_page(browser, path, 700, 800)
    def steps() -> list[str]:
        return page.eval_on_selector_all(".chainrule-stepper", "bs => bs.map(b => b.dataset.step)")

    assert steps() == ["0", "0"]
    # a key typed elsewhere on the page is not the steppers'
    page.click(".elsewhere")
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    page.wait_for_timeout(200)
    assert steps() == ["0", "0"] and page.input_value(".elsewhere") == " "
    # keys act on the stepper that has focus, and only on it
    second = page.locator(".chainrule-stepper").nth(1)
    second.locator(".crs-next").click()
    page.keyboard.press("ArrowRight")
    assert steps() == ["0", "2"]
    page.locator(".chainrule-stepper").nth(0).locator(".crs-last").click()
    assert steps()[0] == str(len(topo_order(o)) - 1) and steps()[1] == "2"
    # each shows its own graph: node v0 is x in one and a in the other
    assert node_texts(page, 0, ".chainrule-stepper:nth-of-type(1)")["v0"] == "x"
    # each picture starts fitted to the width of its box, unless that would shrink its text
    # below 9 px (the first, in this narrow page): then as small as keeps it readable
    fitted = "ps => ps.map(p => p.querySelector('svg').getBoundingClientRect().width <= p.clientWidth)"
    smallest = ("ps => ps.map(p => Math.min(...[...p.querySelectorAll('text[font-size]')].map("
                "t => parseFloat(t.getAttribute('font-size')) * Math.abs(t.getScreenCTM().a))))")
    assert page.eval_on_selector_all(".crs-picture", fitted) == [False, True]
    assert min(page.eval_on_selector_all(".crs-picture", smallest)) >= 8.9
    def zoom() -> float:
        return float(page.eval_on_selector(".chainrule-stepper", "b => b.dataset.zoom"))

    before = zoom()
    page.locator(".chainrule-stepper").nth(0).locator(".crs-in").click()
    assert zoom() == pytest.approx(before * 1.25, rel=1e-2)
    page.keyboard.press("0")  # the zoom keys, with focus in the first stepper: fit, then +
    assert page.eval_on_selector_all(".crs-picture", fitted) == [True, True]
    fit = zoom()
    assert fit < before
    page.keyboard.press("+")
    assert zoom() == pytest.approx(fit * 1.25, rel=1e-2)
    assert steps() == [str(len(topo_order(o)) - 1), "2"]  # the zoom keys moved no step
    assert errors == []
    page.close()


def test_keys_the_focused_widget_takes_do_not_reach_the_page(browser, tmp_path):
    """A notebook (JupyterLab) reads keys at the document, after the widget: a document-level
    listener stands in for it. Keys the focused widget takes never reach it; Escape,
    Ctrl/Cmd combinations and every key typed outside the widgets do."""
    from test_viz_training import trained  # a recorded History for the training widget

    from chainrule.viz import training_html

    o, _ = small_expression()
    model, history, _, _ = trained()
    page_html = ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                 '<input class="elsewhere" type="text">'
                 + stepper_html(o, full_page=False) + training_html(model, history, full_page=False)
                 + "<script>window.seen = []; document.addEventListener('keydown', "
                 "e => ['Shift', 'Control'].includes(e.key) "
                 "|| window.seen.push((e.shiftKey ? 'Shift+' : '') + e.key));"
                 "</script></body></html>")
    path = tmp_path / "notebook.html"
    path.write_text(page_html, encoding="utf-8")
    page, _, errors = open_page(browser, path, 1200, 900)

    def where() -> list[str]:
        return [page.eval_on_selector(".chainrule-stepper", "b => b.dataset.step"),
                page.eval_on_selector(".chainrule-training", "b => b.dataset.frame")]

    def seen() -> list[str]:
        return page.evaluate("window.seen.splice(0)")  # and empty the list

    # focus on the stepper's box itself (tabindex=0), not on a button
    page.focus(".chainrule-stepper")
    for key in ["ArrowRight", "ArrowRight", "End", "ArrowLeft", "Home", "ArrowRight", "+", "0",
                "d", "d", "a", "b", "m", "z", "Shift+Enter", "ArrowDown"]:
        page.keyboard.press(key)
    assert where() == ["1", "0"] and seen() == []
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    assert seen() == ["Escape", "s"]
    # the training widget, with focus on its slider and then a button (space presses the button)
    page.focus(".crt-slider")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")  # the slider's own step: it moves, the page does not see it
    page.keyboard.press("x")
    assert where() == ["1", "2"] and seen() == []
    page.focus(".crt-next")
    page.keyboard.press(" ")
    page.keyboard.press("Enter")
    assert where() == ["1", "4"] and seen() == []
    # outside the widgets every key reaches the page, is typed, and moves no widget
    page.click(".elsewhere")
    for key in ["ArrowRight", " ", "d", "Shift+Enter", "End"]:
        page.keyboard.press(key)
    assert seen() == ["ArrowRight", " ", "d", "Shift+Enter", "End"]
    assert page.input_value(".elsewhere") == " d" and where() == ["1", "4"]
    assert errors == []
    page.close()


def test_a_wide_graph_opens_readable_and_follows_the_current_node(browser, tmp_path):
    # The tutorial network's example is far wider than a notebook cell: fitted to 900 px its
    # text would be about 2 px, so it opens at the smallest zoom whose text is 9 px or more,
    # and each step scrolls the picture (not the page) to its node.
    from chainrule import nn

    model = nn.tutorial_network(seed=1)
    x = [Value(v, label=f"x{i}") for i, v in enumerate((0.0, 1.0, 1.0))]
    loss = (model(x) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    path = write_stepper(loss, tmp_path / "wide.html")
    page, _, errors = open_page(browser, path, 900, 800)
    smallest = """() => Math.min(...[...document.querySelectorAll('.crs-picture text[font-size]')]
        .map(t => parseFloat(t.getAttribute('font-size')) * Math.abs(t.getScreenCTM().a)))"""
    fits = "() => { const p = document.querySelector('.crs-picture'); " \
           "return p.querySelector('svg').getBoundingClientRect().width <= p.clientWidth; }"
    assert page.evaluate(smallest) >= 8.9 and not page.evaluate(fits)
    in_view = """() => { const p = document.querySelector('.crs-picture').getBoundingClientRect();
        const n = document.querySelector('.crs-picture .current').getBoundingClientRect();
        return n.left >= p.left - 1 && n.right <= p.right + 1
            && n.top >= p.top - 1 && n.bottom <= p.bottom + 1; }"""
    page.locator(".crs-next").click()
    for key in ("End", "Home", "ArrowRight", "ArrowRight"):
        page.keyboard.press(key)
        assert page.evaluate(in_view), key
    assert page.evaluate("() => window.scrollX") == 0  # the page itself did not scroll sideways
    page.locator(".crs-fit").click()  # fit still shows it whole
    assert page.evaluate(fits)
    assert errors == []
    page.close()


def test_a_grad_is_final_once_its_last_user_has_passed_back():
    # Oracle from the graph itself: in reverse topological order, a value's grad is complete
    # after the last node that uses it has passed its grad back (the root's at once).
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    d = e + c + a  # a is used twice, the second time late in backward order
    out = (d * e).tanh()
    out.backward()
    t = trace(out)
    order = t.backward_order()
    index = {id(t.values[i]): i for i in range(len(t.values))}
    last_user = {order[0]: 0}
    for k, i in enumerate(order):
        for child in t.values[i]._prev:
            last_user[index[id(child)]] = k
    got = {}
    for k, f in enumerate(frames(t)):
        for node in f["final"]:
            assert node not in got, node  # final once, never again
            got[node] = k
    assert got == {f"v{i}": k for i, k in last_user.items()}


def test_notebook_widget_is_laid_out_once_and_is_the_page(tmp_path, monkeypatch):
    import importlib

    from chainrule import viz

    module = importlib.import_module("chainrule.viz.stepper")  # viz.stepper is the function
    real, layouts = module.run_dot, []

    def counted(*args, **kwargs):
        layouts.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "run_dot", counted)
    o, _ = small_expression()
    widget = viz.stepper(o, title="t", interval_ms=40)
    fragment = widget._repr_html_()
    assert fragment.startswith('<div class="chainrule-stepper"') and "<html" not in fragment
    assert fragment in widget.html()
    assert widget.write(tmp_path / "s.html").read_text(encoding="utf-8") == widget.html()
    assert len(layouts) == 1  # laid out once, for the display, the page and the file
    monkeypatch.setattr(module, "run_dot", real)
    assert widget.html() == stepper_html(small_expression()[0], title="t", interval_ms=40)
