// Backward step-through: frame k shows the grads after the first k+1 nodes of the backward
// order have passed their grad to their operands. Positions never move: only classes and the
// text of each node's grad line change. Every element is found inside this stepper's own
// <div> (the SVG's ids are data-cr attributes); the controls and keys are player.js's.

function setup(box) {
  const data = JSON.parse(box.querySelector("script.crs-data").textContent);
  const frames = data.frames;
  const $ = function (cls) { return box.querySelector("." + cls); };
  const el = function (id) { return box.querySelector('[data-cr="' + id + '"]'); };
  const counter = $("crs-counter");
  const code = $("crs-code"), where = $("crs-where");  // only with compiled=True
  const programLines = box.querySelectorAll(".crs-program span[data-line]");
  const picture = $("crs-picture"), svg = picture.querySelector("svg");
  const gradText = {};
  let scale = 1;
  // the SVG's own size in CSS pixels (dot writes points; baseVal converts)
  const natural = svg ? [svg.width.baseVal.value, svg.height.baseVal.value] : [0, 0];

  // Each value node's grad line is the last <text> of its group: viz.drawing.value_label puts
  // the grad row last, and viz/stepper.py checks this layout before writing the page.
  for (const id of data.nodes) {
    const g = el(id);
    if (!g) continue;
    const texts = g.querySelectorAll("text");
    if (texts.length) gradText[id] = texts[texts.length - 1];
  }
  // dot placed each grad line for its widest text, left-anchored; centre it instead so
  // shorter texts of earlier frames sit in the middle of the box.
  for (const t of Object.values(gradText)) {
    const b = t.getBBox();
    t.setAttribute("x", String(b.x + b.width / 2));
    t.setAttribute("text-anchor", "middle");
  }

  function zoom(s) {
    if (!svg) return;
    scale = Math.max(0.05, Math.min(4, s));
    svg.style.width = (natural[0] * scale) + "px";
    svg.style.height = (natural[1] * scale) + "px";
    box.dataset.zoom = scale.toFixed(3);
  }

  function fit() {  // the whole width in view, never enlarged past its natural size
    if (!svg || !natural[0]) return;
    const room = picture.clientWidth - 16;
    zoom(Math.min(1, room / natural[0]));
  }

  // The smallest text at natural size, in CSS px: the first view fits the width only while
  // that keeps every text at 9 px or more; a wider graph opens as small as stays readable,
  // scrolling, and the fit button or 0 still shows it whole.
  let smallest = Infinity;
  if (svg) {
    for (const t of svg.querySelectorAll("text[font-size]")) {
      const m = t.getCTM();
      if (m) smallest = Math.min(smallest, parseFloat(t.getAttribute("font-size")) * Math.abs(m.a));
    }
  }

  function readable() {
    fit();
    if (isFinite(smallest) && smallest * scale < 9) zoom(Math.min(1, 9 / smallest));
  }

  function follow(node) {  // scroll the picture (never the page) so the current node is in view
    const p = picture.getBoundingClientRect(), n = node.getBoundingClientRect();
    if (n.left < p.left || n.right > p.right) picture.scrollLeft += n.left - p.left - (p.width - n.width) / 2;
    if (n.top < p.top || n.bottom > p.bottom) picture.scrollTop += n.top - p.top - (p.height - n.height) / 2;
  }

  function show(current) {
    const state = {};
    for (const id of data.nodes) state[id] = ["grad ?", "pending"];
    for (let i = 0; i <= current; i++) {
      for (const [id, text] of Object.entries(frames[i].set)) state[id] = [text, "partial"];
      // complete once its last contribution has arrived (a neuron-level frame: at its own step)
      for (const id of frames[i].final || [frames[i].node]) {
        if (state[id]) state[id][1] = "final";  // constants have no grad line
      }
    }
    for (const [id, t] of Object.entries(gradText)) {
      t.textContent = state[id][0];
      t.setAttribute("class", state[id][1]);
    }
    for (const e of box.querySelectorAll(".current, .active")) e.classList.remove("current", "active");
    const f = frames[current];
    const node = el(f.node);
    if (node) {
      node.classList.add("current");
      follow(node);
    }
    for (const id of f.edges) {
      const e = el(id);
      if (e) e.classList.add("active");
    }
    $("crs-title").textContent = f.title;
    $("crs-arith").textContent = f.lines.join("\n");
    if (code && f.code) {
      code.textContent = f.code.map(function (c) { return "line " + c[0] + ":  " + c[1]; }).join("\n");
      where.textContent = f.where && f.code.length ? "where " + f.where : f.where;
      const now = new Set(f.code.map(function (c) { return String(c[0]); }));
      let first = null;
      for (const line of programLines) {
        line.classList.toggle("now", now.has(line.dataset.line));
        if (first === null && now.has(line.dataset.line)) first = line;
      }
      const listing = first && first.parentElement;  // scroll the program, never the page
      if (listing) listing.scrollTop = Math.max(0, first.offsetTop - listing.offsetTop - 60);
    }
    counter.textContent = "step " + (current + 1) + " / " + frames.length;
    box.dataset.step = String(current);
    box.dataset.node = f.node;
  }

  function zoomKeys(ev) {
    if (ev.key === "+" || ev.key === "=") zoom(scale * 1.25);
    else if (ev.key === "-") zoom(scale / 1.25);
    else if (ev.key === "0") fit();
    else return false;
    return true;
  }

  $("crs-in").addEventListener("click", function () { zoom(scale * 1.25); });
  $("crs-out").addEventListener("click", function () { zoom(scale / 1.25); });
  $("crs-fit").addEventListener("click", fit);
  readable();
  player(box, "crs", frames.length, data.interval, show, zoomKeys);
}

setupEach("chainrule-stepper", setup);
