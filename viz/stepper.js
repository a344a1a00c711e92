// Backward step-through: frame k shows the grads after the first k+1 nodes of the
// backward order have passed their grad to their operands. Positions never move: only
// classes and the text of each node's grad line change.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("frames").textContent);
  const frames = data.frames;
  const slider = document.getElementById("slider");
  const counter = document.getElementById("counter");
  const playButton = document.getElementById("play");
  const gradText = {};
  let current = 0;
  let timer = null;

  // Each value node's grad line is the last <text> of its group: viz.layout.value_label
  // puts the grad row last. Its content is no guide, since a node's title (its label) may
  // itself start with "grad"; viz/stepper.py checks this layout before writing the page.
  for (const id of data.nodes) {
    const g = document.getElementById(id);
    if (!g) continue;
    const texts = g.querySelectorAll("text");
    if (texts.length) gradText[id] = texts[texts.length - 1];
  }
  // dot placed each grad line for its widest text, left-anchored; centre it instead so
  // shorter texts of earlier frames sit in the middle of the box.
  for (const t of Object.values(gradText)) {
    const box = t.getBBox();
    t.setAttribute("x", String(box.x + box.width / 2));
    t.setAttribute("text-anchor", "middle");
  }

  function show(k) {
    current = Math.max(0, Math.min(frames.length - 1, k));
    const state = {};
    for (const id of data.nodes) state[id] = ["grad ?", "pending"];
    for (let i = 0; i <= current; i++) {
      for (const [id, text] of Object.entries(frames[i].set)) state[id] = [text, "partial"];
      const done = state[frames[i].node];
      if (done) done[1] = "final";  // constants have no grad line
    }
    for (const [id, t] of Object.entries(gradText)) {
      t.textContent = state[id][0];
      t.setAttribute("class", state[id][1]);
    }
    for (const el of document.querySelectorAll(".current, .active")) {
      el.classList.remove("current", "active");
    }
    const f = frames[current];
    const node = document.getElementById(f.node);
    if (node) {
      node.classList.add("current");
      if (node.scrollIntoView) node.scrollIntoView({block: "nearest", inline: "nearest"});
    }
    for (const id of f.edges) {
      const e = document.getElementById(id);
      if (e) e.classList.add("active");
    }
    document.getElementById("step-title").textContent = f.title;
    document.getElementById("arith").textContent = f.lines.join("\n");
    slider.value = String(current);
    counter.textContent = "step " + (current + 1) + " / " + frames.length;
    document.body.dataset.step = String(current);
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = "play";
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (current >= frames.length - 1) show(0);
    playButton.textContent = "pause";
    timer = setInterval(function () {
      show(current + 1);
      if (current >= frames.length - 1) stop();
    }, data.interval);
  }

  slider.max = String(frames.length - 1);
  slider.addEventListener("input", function () { stop(); show(Number(slider.value)); });
  document.getElementById("prev").addEventListener("click", function () { stop(); show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { stop(); show(current + 1); });
  document.getElementById("first").addEventListener("click", function () { stop(); show(0); });
  document.getElementById("last").addEventListener("click", function () { stop(); show(frames.length - 1); });
  playButton.addEventListener("click", play);
  document.addEventListener("keydown", function (ev) {
    if (ev.target === slider && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) ev.preventDefault();
    if (ev.key === "ArrowRight") { stop(); show(current + 1); }
    else if (ev.key === "ArrowLeft") { stop(); show(current - 1); }
    else if (ev.key === "Home") { stop(); show(0); }
    else if (ev.key === "End") { stop(); show(frames.length - 1); }
    else if (ev.key === " ") { ev.preventDefault(); play(); }
    else return;
  });
  show(0);
}());
