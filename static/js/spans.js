// The span layer of the labeling view (span projects): marks entity spans in the item's text with the
// keyboard and the mouse, and puts them in the answer's `spans` field as JSON. labeling.js keeps the rest
// (timing, uuid, S skip, U undo, F flag). Offsets are code points of the stored text, as Python counts them
// (JavaScript strings count UTF-16 units: the text is handled as an array of code points).
//
// Mouse: select text (it snaps to whole tokens); click a span to pick it. Keys: ←/→ select the previous or
// next token; Shift+←/→ shrink or grow the selection by a token; Alt+←/→ move the selection's end by one
// character, Alt+Shift+←/→ its start; a type's hotkey marks the selection (or retypes the picked span);
// Tab/Shift+Tab pick spans; Delete removes the picked one; Esc clears; Enter submits (labeling.js).
(function () {
  "use strict";

  let state = null;

  function panel() {
    return document.getElementById("labeling-panel");
  }

  function init() {
    const dataEl = document.getElementById("span-data");
    const textEl = document.getElementById("span-text");
    if (!dataEl || !textEl) { state = null; return; }
    const data = JSON.parse(dataEl.textContent);
    state = {
      el: textEl,
      chars: Array.from(data.text),
      tokens: data.tokens,
      types: data.types,
      byKey: Object.fromEntries(data.types.map((t) => [t.key, t])),
      byHotkey: Object.fromEntries(data.types.filter((t) => t.hotkey).map((t) => [t.hotkey, t])),
      spans: (data.spans || []).map((s) => ({ start: s.start, end: s.end, label: s.label })),
      allowOverlap: !!data.allow_overlap,
      sel: null,
      cursor: -1,
      picked: -1,
    };
    if (data.suggested && state.spans.length) status("The model's spans are filled in: correct them, then Enter.");
    render();
  }

  function status(message, isError) {
    const el = document.getElementById("span-status");
    if (!el) return;
    el.textContent = message || "";
    el.classList.toggle("flash-error", !!isError);
  }

  function quote(start, end) {
    return state.chars.slice(start, end).join("");
  }

  // The smallest run of whole tokens that covers [start, end).
  function snap(start, end) {
    const inside = state.tokens.filter(([s, e]) => s < end && e > start);
    if (!inside.length) return null;
    return { start: Math.min(start, inside[0][0]), end: Math.max(end, inside[inside.length - 1][1]) };
  }

  function tokenAt(offset) {
    return state.tokens.findIndex(([s, e]) => s <= offset && offset < e);
  }

  function ordered() {
    return state.spans
      .map((span, index) => ({ span, index }))
      .sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
  }

  function render() {
    const { el, chars, spans, sel } = state;
    const cuts = new Set([0, chars.length]);
    state.tokens.forEach(([s, e]) => { cuts.add(s); cuts.add(e); });
    spans.forEach((s) => { cuts.add(s.start); cuts.add(s.end); });
    if (sel) { cuts.add(sel.start); cuts.add(sel.end); }
    const points = [...cuts].filter((p) => p >= 0 && p <= chars.length).sort((a, b) => a - b);
    const nodes = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const [a, b] = [points[i], points[i + 1]];
      const seg = document.createElement("span");
      seg.className = "seg";
      seg.dataset.s = String(a);
      seg.dataset.e = String(b);
      seg.textContent = chars.slice(a, b).join("").replace(/\r/g, "");
      const covering = spans.map((s, index) => ({ s, index })).filter(({ s }) => s.start <= a && b <= s.end);
      if (covering.length) {
        const inner = covering.reduce((x, y) => (y.s.end - y.s.start < x.s.end - x.s.start ? y : x));
        const type = state.byKey[inner.s.label];
        seg.classList.add("in-span");
        if (covering.length > 1) seg.classList.add("nested");
        seg.dataset.span = String(inner.index);
        if (type) seg.style.backgroundColor = type.color + "33";
        if (type) seg.style.borderBottom = "2px solid " + type.color;
        if (covering.some(({ index }) => index === state.picked)) seg.classList.add("picked");
      }
      if (sel && sel.start <= a && b <= sel.end) seg.classList.add("sel");
      nodes.push(seg);
      spans.forEach((s, index) => {
        if (s.end === b) {
          const tag = document.createElement("sup");
          const type = state.byKey[s.label];
          tag.className = "span-tag";
          tag.dataset.span = String(index);
          tag.textContent = type ? type.name : s.label;
          if (type) tag.style.backgroundColor = type.color;
          nodes.push(tag);
        }
      });
    }
    el.replaceChildren(...nodes);
    const list = document.getElementById("span-list");
    if (list) {
      list.replaceChildren(...ordered().map(({ span, index }) => {
        const li = document.createElement("li");
        const type = state.byKey[span.label];
        li.dataset.span = String(index);
        li.textContent = `${type ? type.name : span.label}: “${quote(span.start, span.end)}” (${span.start}–${span.end})`;
        if (index === state.picked) li.classList.add("picked");
        return li;
      }));
      if (!spans.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = "No spans: Enter submits “no entities”.";
        list.append(li);
      }
    }
    const field = panel() && panel().querySelector("[data-spans]");
    if (field) {
      const sorted = ordered().map(({ span }) => ({ ...span, text: quote(span.start, span.end) }));
      field.value = JSON.stringify(sorted);
    }
  }

  function setSelection(start, end) {
    state.sel = start < end ? { start, end } : null;
    state.picked = -1;
    render();
  }

  function mark(type) {
    if (state.picked >= 0 && !state.sel) {
      state.spans[state.picked].label = type.key;
      status(`Changed to ${type.name}.`);
      render();
      return;
    }
    if (!state.sel) { status("Select some text first (mouse, or the arrow keys).", true); return; }
    const { start, end } = state.sel;
    const same = state.spans.findIndex((s) => s.start === start && s.end === end);
    if (same >= 0) {
      state.spans[same].label = type.key;
    } else {
      const clash = state.spans.find((s) => s.start < end && start < s.end);
      if (clash && !state.allowOverlap) {
        status(`“${quote(start, end)}” overlaps “${quote(clash.start, clash.end)}”: this project does not allow nested or overlapping spans.`, true);
        return;
      }
      state.spans.push({ start, end, label: type.key });
    }
    status(`Marked “${quote(start, end)}” as ${type.name}.`);
    state.cursor = tokenAt(end - 1);
    state.sel = null;
    render();
  }

  function pick(index) {
    state.picked = index;
    state.sel = null;
    render();
  }

  function removePicked() {
    if (state.picked < 0) return;
    const span = state.spans[state.picked];
    state.spans.splice(state.picked, 1);
    state.picked = -1;
    status(`Removed “${quote(span.start, span.end)}”.`);
    render();
  }

  function moveToken(step) {
    const count = state.tokens.length;
    if (!count) return;
    // From the selection, else from where the last mark ended, else from an end of the text.
    let index = state.sel ? tokenAt(step > 0 ? state.sel.end - 1 : state.sel.start) : state.cursor;
    index = index < 0 ? (step > 0 ? 0 : count - 1) : Math.min(count - 1, Math.max(0, index + step));
    const [s, e] = state.tokens[index];
    setSelection(s, e);
  }

  function growByToken(step) {
    if (!state.sel) { moveToken(step); return; }
    const { start, end } = state.sel;
    if (step > 0) {
      const next = state.tokens.find(([s]) => s >= end);
      if (next) setSelection(start, next[1]);
    } else {
      const inside = state.tokens.filter(([s, e]) => s >= start && e <= end);
      if (inside.length > 1) setSelection(start, inside[inside.length - 2][1]);
    }
  }

  function moveChar(which, step) {
    if (!state.sel) return;
    let { start, end } = state.sel;
    if (which === "end") end = Math.min(state.chars.length, Math.max(start + 1, end + step));
    else start = Math.max(0, Math.min(end - 1, start + step));
    setSelection(start, end);
  }

  // Code points from the start of `seg` to a DOM point inside it (a CR dropped from the display still
  // counts in the stored text).
  function offsetIn(seg, node, offset) {
    const before = document.createRange();
    before.selectNodeContents(seg);
    before.setEnd(node, offset);
    const shown = Array.from(before.toString()).length;
    const raw = state.chars.slice(Number(seg.dataset.s), Number(seg.dataset.e));
    let at = 0, seen = 0;
    while (at < raw.length && seen < shown) { if (raw[at] !== "\r") seen++; at++; }
    return Number(seg.dataset.s) + at;
  }

  // The stored-text offsets a DOM selection covers, from the segments it touches.
  function rangeOffsets(range) {
    const segs = [...state.el.querySelectorAll(".seg")].filter((seg) => range.intersectsNode(seg));
    if (!segs.length) return null;
    const first = segs[0], last = segs[segs.length - 1];
    const start = first.contains(range.startContainer)
      ? offsetIn(first, range.startContainer, range.startOffset) : Number(first.dataset.s);
    const end = last.contains(range.endContainer)
      ? offsetIn(last, range.endContainer, range.endOffset) : Number(last.dataset.e);
    return { start, end };
  }

  function fromMouse() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return false;
    const range = selection.getRangeAt(0);
    if (!state.el.contains(range.commonAncestorContainer)) return false;
    const offsets = rangeOffsets(range);
    selection.removeAllRanges();
    if (!offsets || offsets.end <= offsets.start) return false;
    const snapped = snap(offsets.start, offsets.end);
    if (!snapped) return false;
    setSelection(snapped.start, snapped.end);
    status(`Selected “${quote(snapped.start, snapped.end)}”: press a type's key.`);
    return true;
  }

  document.addEventListener("mouseup", (event) => {
    if (!state || !event.target.closest || !event.target.closest("#span-text")) return;
    fromMouse();
  });

  document.addEventListener("click", (event) => {
    if (!state || !event.target.closest) return;
    const typeButton = event.target.closest("[data-span-type]");
    if (typeButton) { mark(state.byKey[typeButton.dataset.spanType]); return; }
    const marked = event.target.closest("#span-text [data-span], #span-list [data-span]");
    const selection = window.getSelection();
    if (marked && (!selection || selection.isCollapsed)) pick(Number(marked.dataset.span));
  });

  document.addEventListener("keydown", (event) => {
    if (!state || !panel()) return;
    const target = event.target;
    if (target.closest && target.closest("#flag-form")) return;
    if (target.matches && target.matches("input[type=text], textarea, select")) return;
    if (event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (key === "ArrowRight" || key === "ArrowLeft") {
      event.preventDefault();
      const step = key === "ArrowRight" ? 1 : -1;
      if (event.altKey) moveChar(event.shiftKey ? "start" : "end", step);
      else if (event.shiftKey) growByToken(step);
      else moveToken(step);
      if (state.sel) status(`Selected “${quote(state.sel.start, state.sel.end)}”.`);
      return;
    }
    if (event.altKey) return;
    if (key === "Tab") {
      if (!state.spans.length) return;
      event.preventDefault();
      const order = ordered().map(({ index }) => index);
      const at = order.indexOf(state.picked);
      const next = at < 0 ? (event.shiftKey ? order.length - 1 : 0) : (at + (event.shiftKey ? -1 : 1) + order.length) % order.length;
      pick(order[next]);
      return;
    }
    if (key === "Delete" || key === "Backspace") { event.preventDefault(); removePicked(); return; }
    if (key === "Escape") { state.sel = null; state.picked = -1; status(""); render(); return; }
    // Enter (submit), S, U and F: labeling.js, as for every project.
    if (event.repeat || key.length !== 1) return;
    const type = state.byHotkey[key.toLowerCase()];
    if (type) { event.preventDefault(); event.stopImmediatePropagation(); mark(type); }
  }, true);

  // Before htmx sends the answer: the spans as they stand.
  document.addEventListener("submit", (event) => {
    if (state && event.target.id === "submit-form") render();
  }, true);

  let lastPanel = null;
  function maybeNewPanel() {
    const current = panel();
    if (current && current !== lastPanel) { lastPanel = current; init(); }
  }
  document.addEventListener("htmx:afterSwap", maybeNewPanel);
  document.addEventListener("htmx:afterSettle", maybeNewPanel);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", maybeNewPanel);
  else maybeNewPanel();
})();
