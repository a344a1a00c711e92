"""The practice page: its markup, then the exercise played in headless Chromium."""

from __future__ import annotations

import importlib
import re

import pytest

from chainrule.autograd import Value
from chainrule.viz import Practice, exercise, lesson, practice, practice_html, write_practice
from chainrule.viz.style import contribution_colour


def test_page_is_self_contained_and_has_no_ids(tmp_path):
    page = write_practice("neuron", tmp_path / "p.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and page.count("<script") == 2 and page.count("<style>") == 1
    without_ns = re.sub(r'xmlns(:xlink)?="http://www\.w3\.org/[^"]*"', "", page)
    assert "http:" not in without_ns and "https:" not in without_ns
    assert not re.search(r"<(script|link|img)[^>]*(src|href)=", page)
    assert not re.search(r"\sid=", page)  # several pages can share one document
    assert "document.addEventListener" not in page and "window.addEventListener" not in page
    assert "data 0.7071" in page and "grad 0.5" in page  # laid out for the texts shown later


def test_same_graph_same_page_and_grads_untouched():
    root = lesson("diamond")
    assert practice_html(root) == practice_html("diamond")
    assert root.grad == 0.0 and all(v.grad == 0.0 for v in exercise(root).trace.nodes)


def test_notebook_display_is_the_fragment(tmp_path, monkeypatch):
    module = importlib.import_module("chainrule.viz.practice")  # viz.practice is the function
    real, layouts = module.run_dot, []

    def counted(*args, **kwargs):
        layouts.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "run_dot", counted)
    p = practice("a+a", ask="grad")
    assert isinstance(p, Practice)
    fragment = p._repr_html_()
    assert fragment.startswith('<div class="chainrule-practice"') and "<html" not in fragment
    assert fragment in p.html()
    assert p.write(tmp_path / "x.html").read_text(encoding="utf-8") == p.html()
    assert len(layouts) == 1  # laid out once, for the display, the page and the file
    assert p.html() == practice_html("a+a", ask="grad")


def test_bad_arguments():
    with pytest.raises(TypeError, match="write_practice"):
        practice_html(3.0)
    with pytest.raises(ValueError, match="no built-in exercise named"):
        practice_html("xor")
    with pytest.raises(ValueError, match="ask must be one of"):
        practice_html("neuron", ask="every")
    with pytest.raises(ValueError, match="more than max_nodes=5"):
        practice_html("neuron", max_nodes=5)
    with pytest.raises(ValueError, match="no operation to practise on"):
        practice_html(Value(2.0, label="x"))
    with pytest.raises(TypeError, match="path"):
        write_practice("neuron", 3)



class Play:
    """One exercise on a loaded page, found by its position among the page's exercises."""

    def __init__(self, page, k: int = 0):
        self.page, self.k = page, k
        self.box = page.locator("div.chainrule-practice").nth(k)

    def answer(self, text: str) -> None:
        self.box.locator(".crp-answer").fill(text)
        self.box.locator(".crp-answer").press("Enter")

    def click(self, what: str) -> None:
        self.box.locator(f".crp-{what}").click()

    def state(self) -> dict:
        return self.box.evaluate("""b => ({question: b.dataset.question, score: b.dataset.score,
            finished: b.dataset.finished || null,
            feedback: b.querySelector('.crp-feedback').textContent,
            prompt: b.querySelector('.crp-prompt').textContent,
            tip: b.querySelector('.crp-tip').textContent})""")

    def label(self, target: str) -> str:
        """The last text of an SVG group: a node's grad row or an edge's label."""
        return self.box.evaluate(f"""b => [...b.querySelector('[data-cr="{target}"]')
            .querySelectorAll('text')].at(-1).textContent""")

    def stroke(self, target: str) -> str:
        return self.box.evaluate(f"""b => b.querySelector('[data-cr="{target}"] path')
            .getAttribute('stroke')""")


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def target(it) -> str:
    return f"e{it.node}_{it.slot}" if it.kind == "local" else f"v{it.node}"


def test_all_right_reaches_a_full_score_and_colours_the_graph(browser, tmp_path):
    ex = exercise(lesson("neuron"))
    path = write_practice("neuron", tmp_path / "p.html")
    page, requests, errors = open_page(browser, path)
    play = Play(page)
    first = ex.questions[0]
    assert play.label(target(first)) == "∂o/∂n = ?" and play.state()["question"] == "1"
    assert play.label(f"v{len(ex.trace.nodes) - 1}") == "grad 1"  # the root's seed is given
    for k, q in enumerate(ex.questions):
        # typed as a learner would: the rounded number the page shows
        play.answer(ex.show(q.expected))
        assert play.state()["score"] == str(k + 1), play.state()
        assert play.label(target(q)).endswith(ex.show(q.expected))
    s = play.state()
    assert s["finished"] == "1" and s["score"] == "18" and "a full score" in s["prompt"]
    for step in ex.trace.edges:  # coloured as draw_graph colours it
        want = contribution_colour(step.contribution).lower()
        assert play.stroke(f"e{step.node}_{step.slot}").lower() == want
    assert errors == []
    assert requests == [path.as_uri()]  # nothing fetched from anywhere
    page.close()


def test_wrong_answer_is_refused_then_reveal_and_skip(browser, tmp_path):
    ex = exercise(lesson("neuron"))
    path = write_practice("neuron", tmp_path / "p.html")
    page, _, errors = open_page(browser, path)
    play = Play(page)
    n = 0.8813735870195432
    play.answer(str(1 - n * n))  # the input where the rule uses the output
    s = play.state()
    assert s["question"] == "1" and s["score"] == "0"
    assert "used the input where the rule uses the output" in s["feedback"]
    assert play.label(target(ex.questions[0])) == "∂o/∂n = ?"
    play.answer("seven")
    assert "not a number" in play.state()["feedback"] and play.state()["question"] == "1"
    play.click("hint")
    assert play.state()["tip"] == "rule: ∂o/∂n = 1 - o**2"
    play.click("reveal")
    s = play.state()
    assert s["question"] == "2" and s["score"] == "0" and "revealed: ∂o/∂n = 1 - o**2 = 0.5" in s["feedback"]
    assert play.label(target(ex.questions[0])) == "∂o/∂n = 1 - o**2 = 0.5"
    play.click("skip")
    s = play.state()
    assert s["question"] == "3" and "skipped" in s["feedback"]
    assert play.label(target(ex.questions[1])) == "grad 0.5"
    play.answer("1/1")  # a fraction, for dn/d(x1*w1 + x2*w2) = 1
    assert play.state()["score"] == "1"
    assert "revealed 1, skipped 1" in page.text_content(".crp-score")
    assert errors == []
    page.close()


def test_two_exercises_in_one_document_do_not_interfere(browser, tmp_path):
    one, two = practice("neuron")._repr_html_(), practice("a+a", ask="local")._repr_html_()
    path = tmp_path / "both.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{one}"
                    f"<p id='between'>between</p>{two}</body></html>", encoding="utf-8")
    page, requests, errors = open_page(browser, path)
    first, second = Play(page, 0), Play(page, 1)
    assert first.state()["question"] == second.state()["question"] == "1"
    second.answer("1")
    assert second.state()["question"] == "2" and first.state()["question"] == "1"
    assert first.state()["feedback"] == ""
    # a key acts only on the exercise that has focus
    first.box.focus()
    page.keyboard.press("s")
    assert first.state()["question"] == "2" and second.state()["question"] == "2"
    page.keyboard.press("s")  # still focused: it goes on
    assert first.state()["question"] == "3"
    page.evaluate("() => { window.seen = []; document.addEventListener('keydown', e => seen.push(e.key)); }")
    page.keyboard.press("s")  # a key typed in an exercise does not reach the page's own handlers
    assert first.state()["question"] == "4" and page.evaluate("window.seen") == []
    page.locator("#between").click()  # focus leaves both exercises
    page.keyboard.press("s")
    assert first.state()["question"] == "4" and second.state()["question"] == "2"
    assert page.evaluate("window.seen") == ["s"]
    second.answer("1")
    assert second.state()["finished"] == "1" and first.state()["finished"] is None
    assert second.label("v0") == "grad 2"  # a's grad, given in the local-only mode
    assert errors == [] and requests == [path.as_uri()]
    page.close()


def test_grad_mode_shows_the_local_derivatives(browser, tmp_path):
    path = write_practice("division", tmp_path / "p.html", ask="grad", digits=3)
    ex = exercise(lesson("division"), "grad", 3)
    page, _, errors = open_page(browser, path)
    play = Play(page)
    assert play.label("e3_1") == "∂q/∂b = -q/b = -0.25"
    for q in ex.questions:
        play.answer(ex.show(q.expected))
    assert play.state()["score"] == str(len(ex.questions)) == "3"
    assert errors == []
    page.close()


def test_labels_are_text_not_markup(tmp_path):
    a = Value(1.0, label="<script>alert(1)</script>")
    b = a * Value(2.0, label='"&')
    page = practice_html(b)
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_without_a_script_the_answers_stay_hidden(browser, tmp_path):
    ex = exercise(lesson("neuron"))
    path = write_practice("neuron", tmp_path / "p.html")
    hidden = """() => [...document.querySelectorAll('text')]
        .filter(t => getComputedStyle(t).visibility === 'hidden').map(t => t.textContent)"""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    secret = page.evaluate(hidden)
    assert len(secret) == len(ex.items)  # every grad row and edge label holding an answer
    assert "grad -1.5" in secret and "∂o/∂n = 1 - o**2 = 0.5" in secret
    context.close()
    page, _, errors = open_page(browser, path)
    assert page.evaluate(hidden) == [] and errors == []  # the script replaced them with "?"
    page.close()


def test_the_page_reads_answers_as_the_terminal_does(browser, tmp_path):
    from chainrule.viz.exercise import parse_answer

    path = write_practice("a+a", tmp_path / "p.html")
    page, _, errors = open_page(browser, path)
    play = Play(page)
    for text in ["2", " -3/4 ", "1e-3", "+2", ".5", "6 / -4", "abc", "", "nan", "1/0", "1e999", "2*3",
                 "0x10", "1,5", "--1", "3/", "Infinity"]:
        play.answer(text)
        refused = "not a number" in play.state()["feedback"]
        try:
            parse_answer(text)
            accepted = True
        except ValueError:
            accepted = False
        assert refused != accepted, text
        assert play.state()["question"] == "1"  # none of these is 1, the answer
    assert errors == []
    page.close()
