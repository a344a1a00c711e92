// Training over time: each frame recolours and relabels the network view's edges with one
// snapshot's weights and gradients, moves the loss curve's cursor and repaints the plane.
// Every element is found inside this page's own <div>; the controls and keys are player.js's.

function setup(box) {
  const data = JSON.parse(box.querySelector("script.crt-data").textContent);
  const frames = data.frames;
  const $ = function (cls) { return box.querySelector("." + cls); };
  const el = function (id) { return box.querySelector('[data-cr="' + id + '"]'); };
  const cursor = box.querySelector(".crt-cursor");
  const curveWidth = Number(box.querySelector(".crt-curve").getAttribute("width"));

  const cells = box.querySelector(".crt-cells");
  const rects = [];
  if (cells && data.plane) {
    const n = data.plane.grid, size = 220 / n;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
        rect.setAttribute("x", String(10 + c * size));
        rect.setAttribute("y", String(10 + r * size));
        rect.setAttribute("width", String(size + 0.5));
        rect.setAttribute("height", String(size + 0.5));
        cells.appendChild(rect);
        rects.push(rect);
      }
    }
  }

  function show(current) {
    const f = frames[current];
    for (const [id, [colour, width, w, g]] of Object.entries(f.edges)) {
      const edge = el(id);
      if (edge) {
        for (const shape of edge.querySelectorAll("path, polygon")) {
          shape.setAttribute("stroke", colour);
          if (shape.tagName === "polygon") shape.setAttribute("fill", colour);
        }
        const path = edge.querySelector("path");
        if (path) path.setAttribute("stroke-width", String(width));
      }
      const label = el(data.labels[id]);
      if (label) {
        const texts = label.querySelectorAll("text");
        if (texts.length >= 2) { texts[0].textContent = w; texts[1].textContent = g; }
      }
    }
    if (cursor) {
      const x = 30 + (curveWidth - 40) * f.step / Math.max(data.steps - 1, 1);
      cursor.setAttribute("x1", String(x));
      cursor.setAttribute("x2", String(x));
    }
    if (rects.length) {
      const values = data.plane.values[current], mid = data.plane.mid;
      for (let i = 0; i < rects.length; i++) {
        const v = values[i];
        rects[i].setAttribute("fill", v > mid ? "#cfe3f2" : "#f8e3bd");
      }
    }
    $("crt-status").textContent = "step " + f.step + " (epoch " + f.epoch + "), loss " + f.loss;
    $("crt-counter").textContent = "snapshot " + (current + 1) + " / " + frames.length;
    box.dataset.frame = String(current);
  }

  player(box, "crt", frames.length, data.interval, show);
}

setupEach("chainrule-training", setup);
