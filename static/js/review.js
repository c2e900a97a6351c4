// The reviewer queue's keyboard layer. The forms work without it; this adds the keys (label hotkeys choose
// or toggle the final label, Enter saves, N writes a note, G marks a gold check, P passes) and the time
// the reviewer spent on the item.
(function () {
  "use strict";

  let shownAt = performance.now();

  function panel() {
    return document.getElementById("review-panel");
  }

  function submitForm(id) {
    const form = document.getElementById(id);
    if (!form) return;
    if (window.htmx) window.htmx.process(form);
    form.requestSubmit();
  }

  document.addEventListener("keydown", (event) => {
    if (!panel()) return;
    const target = event.target;
    if (target.matches && target.matches("textarea, input[type=text]")) {
      if (event.key === "Escape") { event.preventDefault(); target.blur(); }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submitForm("review-form"); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const key = event.key.toLowerCase();
    const label = key.length === 1 ? panel().querySelector(`[data-hotkey="${CSS.escape(key)}"]`) : null;
    if (label) {
      event.preventDefault();
      const input = label.querySelector("input");
      input.checked = input.type === "radio" ? true : !input.checked;
      return;
    }
    if (key === "enter") { event.preventDefault(); submitForm("review-form"); return; }
    if (key === "p") { event.preventDefault(); submitForm("pass-form"); return; }
    if (key === "n") { event.preventDefault(); const note = document.getElementById("review-note"); if (note) note.focus(); return; }
    if (key === "g") { event.preventDefault(); const box = document.getElementById("use-as-check"); if (box) box.checked = !box.checked; }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.closest || !form.closest("#review-panel")) return;
    if (window.htmx) window.htmx.process(form);
    const elapsed = String(Math.round(performance.now() - shownAt));
    form.querySelectorAll("[data-lead-time]").forEach((f) => { f.value = elapsed; });
  }, true);

  let lastPanel = null;
  function maybeNewPanel() {
    const current = panel();
    if (current && current !== lastPanel) {
      lastPanel = current;
      shownAt = performance.now();
    }
  }
  document.addEventListener("htmx:afterSettle", maybeNewPanel);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", maybeNewPanel);
  else maybeNewPanel();
})();
