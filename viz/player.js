// The controls the step-through pages share (viz/controls.html): first, prev, play/pause, next,
// last and a slider, and the keys ← → Home End and space, read only while focus is inside the
// page's own <div>, so several pages can share a document or a notebook; while it has focus,
// keys do not reach the page's own handlers (a notebook's shortcuts), except Escape and
// Ctrl/Alt/Cmd combinations. viz/page.py runs this
// file and the page's own script inside one function.

// Call setup(box) once for each <div class=cls> in the document not set up yet.
function setupEach(cls, setup) {
  for (const box of document.querySelectorAll("div." + cls)) {
    if (box.dataset.ready) continue;
    box.dataset.ready = "1";
    setup(box);
  }
}

// Wire the controls whose classes start with `prefix` inside `box` to show(k), k in 0..count-1,
// and show frame 0. `moreKeys(ev)`, when given, handles a key the player does not and returns
// whether it did.
function player(box, prefix, count, interval, show, moreKeys) {
  const $ = function (name) { return box.querySelector("." + prefix + "-" + name); };
  const slider = $("slider"), playButton = $("play");
  let current = 0, timer = null;

  function go(k) {
    current = Math.max(0, Math.min(count - 1, k));
    show(current);
    slider.value = String(current);
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = "play";
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (current >= count - 1) go(0);
    playButton.textContent = "pause";
    timer = setInterval(function () {
      go(current + 1);
      if (current >= count - 1) stop();
    }, interval);
  }

  slider.max = String(count - 1);
  slider.addEventListener("input", function () { stop(); go(Number(slider.value)); });
  $("prev").addEventListener("click", function () { stop(); go(current - 1); });
  $("next").addEventListener("click", function () { stop(); go(current + 1); });
  $("first").addEventListener("click", function () { stop(); go(0); });
  $("last").addEventListener("click", function () { stop(); go(count - 1); });
  playButton.addEventListener("click", play);
  // Only while focus is inside this box: a key typed elsewhere on the page is not ours.
  box.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;  // the application's shortcuts (save, palette)
    // Everything else stays in this box: a notebook (JupyterLab) would also run its command
    // shortcuts for these keys (space and arrows scroll or select cells, d d deletes the cell,
    // Shift+Enter runs it and redraws this widget). Escape, or a click outside, hands the keys back.
    if (ev.key === "Escape") return;
    ev.stopPropagation();
    if (ev.target === slider && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) ev.preventDefault();
    if (ev.key === "ArrowRight") { stop(); go(current + 1); }
    else if (ev.key === "ArrowLeft") { stop(); go(current - 1); }
    else if (ev.key === "Home") { stop(); go(0); }
    else if (ev.key === "End") { stop(); go(count - 1); }
    else if (ev.key === " " && ev.target.tagName !== "BUTTON") { play(); }  // space on a button presses it
    else if (!(moreKeys && moreKeys(ev))) return;  // the browser's own action (Tab, Enter on a button)
    ev.preventDefault();
  });
  go(0);
}
