// The practice exercise: one question at a time, in backward order. Every element is found
// inside this exercise's own <div>, so several exercises can share a page; the script sets
// up each exercise not yet set up, whichever copy of it runs.
(function () {
  "use strict";

  function close(x, y, tol) {
    if (!(isFinite(x) && isFinite(y))) return x === y;
    return Math.abs(x - y) <= tol;
  }

  // The same answers viz.exercise.parse_answer accepts: a decimal number or a fraction.
  const NUMBER = "[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?";
  const ANSWER = new RegExp("^\\s*(" + NUMBER + ")\\s*(?:/\\s*(" + NUMBER + ")\\s*)?$");

  function parse(text) {
    const m = ANSWER.exec(text);
    if (!m) return null;
    const value = m[2] === undefined ? Number(m[1]) : Number(m[1]) / Number(m[2]);
    return isFinite(value) ? value : null;
  }

  function setup(box) {
    const data = JSON.parse(box.querySelector("script.crp-data").textContent);
    const items = data.items;
    const $ = function (cls) { return box.querySelector("." + cls); };
    const el = function (id) { return box.querySelector('[data-cr="' + id + '"]'); };
    const prompt = $("crp-prompt"), input = $("crp-answer"), feedback = $("crp-feedback");
    const tip = $("crp-tip"), progress = $("crp-progress"), scoreLine = $("crp-score");
    const asked = items.filter(function (it) { return it.asked; }).length;
    const score = {right: 0, revealed: 0, skipped: 0};
    let k = -1, number = 0;

    // The text a node's grad row or an edge's label shows: the last <text> of its group
    // (viz.drawing.value_label puts the grad row last; an edge has one label line).
    function textOf(id) {
      const g = el(id);
      if (!g) return null;
      const texts = g.querySelectorAll("text");
      return texts.length ? texts[texts.length - 1] : null;
    }

    function put(id, text, cls) {
      const t = textOf(id);
      if (!t) return;
      t.textContent = text;
      t.setAttribute("class", cls);
    }

    // dot placed each text for its widest version, left-anchored; centre it instead.
    function centre(id) {
      const t = textOf(id);
      if (!t || t.getAttribute("text-anchor") === "middle") return;
      const b = t.getBBox();
      t.setAttribute("x", String(b.x + b.width / 2));
      t.setAttribute("text-anchor", "middle");
    }

    function say(text, cls) {
      feedback.textContent = text;
      feedback.className = "crp-feedback" + (cls ? " " + cls : "");
    }

    function showScore() {
      scoreLine.textContent = "score " + score.right + " / " + asked
        + (score.revealed ? ", revealed " + score.revealed : "")
        + (score.skipped ? ", skipped " + score.skipped : "");
      box.dataset.score = String(score.right);
    }

    function mark(id) {
      for (const g of box.querySelectorAll(".crp-current")) g.classList.remove("crp-current");
      const g = el(id);
      if (g) {
        g.classList.add("crp-current");
        if (g.scrollIntoView) g.scrollIntoView({block: "nearest", inline: "nearest"});
      }
    }

    // Move to the next asked item, showing every given item passed on the way.
    function advance() {
      k += 1;
      while (k < items.length && !items[k].asked) {
        put(items[k].target, items[k].text, "crp-given");
        k += 1;
      }
      input.value = "";
      tip.textContent = "";
      if (k >= items.length) { finish(); return; }
      number += 1;
      const it = items[k];
      prompt.textContent = it.prompt;
      progress.textContent = "question " + number + " of " + asked;
      box.dataset.question = String(number);
      mark(it.target);
    }

    function finish() {
      mark("");
      prompt.textContent = "Done: " + score.right + " of " + asked + " right"
        + (score.right === asked ? ", a full score." : ".")
        + " The graph is coloured as draw_graph colours it: blue edges carry positive gradient,"
        + " orange negative, grey none; thicker edges carry more.";
      progress.textContent = "finished";
      box.dataset.finished = "1";
      input.disabled = true;
      for (const b of box.querySelectorAll(".crp-form button")) b.disabled = true;
      for (const [id, style] of Object.entries(data.final)) {
        const g = el(id);
        if (!g) continue;
        for (const p of g.querySelectorAll("path")) {
          p.setAttribute("stroke", style[0]);
          p.setAttribute("stroke-width", String(style[1]));
          if (style[2]) p.setAttribute("stroke-dasharray", "5,2");
        }
        for (const p of g.querySelectorAll("polygon")) {
          p.setAttribute("stroke", style[0]);
          p.setAttribute("fill", style[0]);
        }
      }
    }

    function check() {
      if (k >= items.length) return;
      const it = items[k];
      const value = parse(input.value);
      if (value === null) {
        say("not a number: \u201c" + input.value.trim() + "\u201d; type a number such as -0.25 or 1/4", "crp-wrong");
        return;
      }
      if (close(value, it.expected, it.tol)) {
        score.right += 1;
        put(it.target, it.text, "crp-right");
        say("right: " + it.answer, "crp-right");
        showScore();
        advance();
        return;
      }
      let why = null;
      for (const [wrong, text] of it.mistakes) {
        if (close(value, wrong, it.tol)) { why = text; break; }
      }
      if (why === null && it.expected !== 0 && close(value, -it.expected, it.tol)) why = "the sign is wrong";
      if (why === null) why = "use " + it.hint;
      say("not yet: " + why + ". Try again, or reveal.", "crp-wrong");
      input.select();
    }

    function hint() {
      if (k >= items.length) return;
      tip.textContent = "rule: " + items[k].hint;
    }

    function reveal() {
      if (k >= items.length) return;
      const it = items[k];
      score.revealed += 1;
      put(it.target, it.text, "crp-revealed");
      say("revealed: " + it.answer, "crp-shown");
      showScore();
      advance();
    }

    function skip() {
      if (k >= items.length) return;
      const it = items[k];
      score.skipped += 1;
      put(it.target, it.text, "crp-revealed");
      say("skipped; the graph now shows " + it.text, "crp-shown");
      showScore();
      advance();
    }

    for (const id of data.nodes) centre(id);
    for (const it of items) centre(it.target);
    for (const id of data.nodes) put(id, "grad ?", "crp-pending");
    put(data.root, data.rootText, "crp-given");
    for (const it of items) {
      if (it.kind === "local") put(it.target, it.asked ? it.pending : it.text, it.asked ? "crp-pending" : "crp-given");
    }
    $("crp-form").addEventListener("submit", function (ev) { ev.preventDefault(); check(); });
    $("crp-hint").addEventListener("click", hint);
    $("crp-reveal").addEventListener("click", reveal);
    $("crp-skip").addEventListener("click", skip);
    // Keys act only inside this exercise, and letters only outside the answer box. A key
    // typed here goes no further (but Escape), so a notebook's own shortcuts do not fire.
    box.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") ev.stopPropagation();
      if (ev.target === input || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === "h") hint();
      else if (ev.key === "r") reveal();
      else if (ev.key === "s") skip();
      else return;
      ev.preventDefault();
    });
    showScore();
    advance();
  }

  for (const box of document.querySelectorAll("div.chainrule-practice")) {
    if (box.dataset.ready) continue;
    box.dataset.ready = "1";
    setup(box);
  }
}());
