// The labeling view's keyboard, timing and evidence layer. The forms work without it; this adds:
// hotkeys (labels, Enter: submit or accept the model's suggestion, S, U, Ctrl+Z, F), the dwell time since the item appeared, a uuid made in the
// browser for each shown item (so a retried submission is stored once), the client's timestamp, whether
// the analyst used a hotkey or a click, and text spans selected as evidence (rationales).
(function () {
  "use strict";

  let shownAt = performance.now();
  let pendingMethod = "";
  let rationales = [];
  let originalText = "";

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function panel() {
    return document.getElementById("labeling-panel");
  }

  // Offsets are in code points, as Python counts them: JavaScript strings count UTF-16 units.
  function codePoints(text) {
    return Array.from(text).length;
  }

  function renderRationales() {
    const textEl = document.getElementById("item-text");
    const list = document.getElementById("rationale-list");
    if (!textEl || !list) return;
    const chars = Array.from(originalText);
    const spans = [...rationales].sort((a, b) => a.start - b.start);
    textEl.replaceChildren();
    let at = 0;
    spans.forEach((span, index) => {
      if (span.start > at) textEl.append(document.createTextNode(chars.slice(at, span.start).join("")));
      const mark = document.createElement("mark");
      mark.textContent = chars.slice(span.start, span.end).join("");
      mark.dataset.index = String(rationales.indexOf(span));
      mark.title = "Evidence: click to remove";
      textEl.append(mark);
      at = span.end;
    });
    if (at < chars.length) textEl.append(document.createTextNode(chars.slice(at).join("")));
    list.replaceChildren(
      ...rationales.map((span) => {
        const li = document.createElement("li");
        li.textContent = `“${span.quote}”`;
        return li;
      })
    );
    const field = panel() && panel().querySelector("[data-rationales]");
    if (field) field.value = JSON.stringify(rationales);
  }

  function onItemShown() {
    shownAt = performance.now();
    rationales = [];
    const textEl = document.getElementById("item-text");
    originalText = textEl ? textEl.textContent : "";
    const uuidField = document.querySelector("[data-client-uuid]");
    if (uuidField) uuidField.value = uuid4();
    document.querySelectorAll("[data-previous]").forEach((box) => { box.checked = true; });
    renderRationales();
  }

  function selectionSpan() {
    const textEl = document.getElementById("item-text");
    const selection = window.getSelection();
    if (!textEl || !selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    if (!textEl.contains(range.startContainer) || !textEl.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.selectNodeContents(textEl);
    before.setEnd(range.startContainer, range.startOffset);
    const start = codePoints(before.toString());
    const quote = range.toString();
    const end = start + codePoints(quote);
    if (!quote.trim()) return null;
    return { start, end, quote };
  }

  function addRationale() {
    const span = selectionSpan();
    if (!span) return;
    window.getSelection().removeAllRanges();
    if (rationales.some((r) => r.start < span.end && span.start < r.end)) return; // no overlapping marks
    rationales.push(span);
    renderRationales();
  }

  function stamp(form, method) {
    const elapsed = String(Math.round(performance.now() - shownAt));
    form.querySelectorAll("[data-lead-time]").forEach((f) => { f.value = elapsed; });
    form.querySelectorAll("[data-client-ts]").forEach((f) => { f.value = String(Date.now()); });
    form.querySelectorAll("[data-input-method]").forEach((f) => { f.value = method; });
    const field = form.querySelector("[data-rationales]");
    if (field) field.value = JSON.stringify(rationales);
  }

  function submitForm(id, method) {
    const form = document.getElementById(id);
    if (!form) return;
    pendingMethod = method;
    form.requestSubmit();
  }

  function openFlag() {
    const form = document.getElementById("flag-form");
    if (!form) return;
    form.hidden = false;
    form.querySelector("textarea").focus();
  }

  function closeFlag() {
    const form = document.getElementById("flag-form");
    if (!form) return;
    form.hidden = true;
    form.querySelector("textarea").value = "";
  }

  document.addEventListener("keydown", (event) => {
    if (!panel()) return;
    const target = event.target;
    if (target.closest && target.closest("#flag-form")) {
      if (event.key === "Escape") { event.preventDefault(); closeFlag(); }
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); submitForm("flag-form", "hotkey"); }
      return;
    }
    if (target.matches && target.matches("input[type=text], textarea, select")) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      submitForm("undo-form", "hotkey");
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const key = event.key.toLowerCase();
    const multi = panel().dataset.multi === "1";
    const label = key.length === 1 ? panel().querySelector(`[data-hotkey="${CSS.escape(key)}"]`) : null;
    if (label) {
      event.preventDefault();
      if (multi) {
        const box = label.querySelector("input[type=checkbox]");
        box.checked = !box.checked;
      } else {
        pendingMethod = "hotkey";
        label.click();
      }
      return;
    }
    if (key === "enter" && multi) { event.preventDefault(); submitForm("submit-form", "hotkey"); return; }
    const accept = key === "enter" ? panel().querySelector("[data-accept-suggestion]") : null;
    if (accept) { event.preventDefault(); pendingMethod = "hotkey"; accept.click(); return; }
    if (key === "s") { event.preventDefault(); submitForm("skip-form", "hotkey"); return; }
    if (key === "u") { event.preventDefault(); submitForm("undo-form", "hotkey"); return; }
    if (key === "f") { event.preventDefault(); openFlag(); }
  });

  // Runs before htmx sends the form (capture phase): fills in the timing, the method and the evidence.
  // A key pressed the instant a new item arrives can come before htmx has wired up the new forms:
  // processing them here (a no-op when done) makes htmx handle this very submit, not the browser.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.closest || !form.closest("#labeling-panel")) return;
    if (window.htmx) window.htmx.process(form);
    // The label button that submitted the form: carried in a field of its own, so the choice gets through
    // even when htmx did not see the click that chose it.
    const chosen = form.querySelector("[data-chosen-label]");
    if (chosen && event.submitter && event.submitter.name === "labels") {
      chosen.value = event.submitter.value;
      chosen.disabled = false;
    }
    stamp(form, pendingMethod || "click");
    pendingMethod = "";
  }, true);

  document.addEventListener("mouseup", (event) => {
    if (event.target.closest && event.target.closest("#item-text")) addRationale();
  });

  document.addEventListener("click", (event) => {
    const mark = event.target.closest && event.target.closest("#item-text mark");
    if (mark) {
      rationales.splice(Number(mark.dataset.index), 1);
      renderRationales();
      return;
    }
    if (event.target.closest && event.target.closest("[data-flag-open]")) openFlag();
  });

  // A new panel element means a new item (or the same one handed back after an undo).
  let lastPanel = null;
  function maybeNewPanel() {
    const current = panel();
    if (current && current !== lastPanel) {
      lastPanel = current;
      onItemShown();
    }
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "flash") closeFlag();
    maybeNewPanel();
  });
  document.addEventListener("htmx:afterSettle", maybeNewPanel);

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", maybeNewPanel);
  else maybeNewPanel();
})();
