// The Content-Security-Policy allows no style="" attribute, so values the server computes (a bar's width, a
// label's colour) travel in data-* attributes and are applied here through the CSSOM, which the policy allows.
(function () {
  "use strict";

  function each(root, selector, fn) {
    if (root.matches && root.matches(selector)) fn(root);
    root.querySelectorAll(selector).forEach(fn);
  }

  function apply(root) {
    each(root, "[data-width]", function (el) {
      var percent = Math.max(0, Math.min(100, parseFloat(el.dataset.width) || 0));
      el.style.width = percent + "%";
    });
    each(root, "[data-chip]", function (el) { el.style.setProperty("--chip", el.dataset.chip); });
    // Spans of a span project: a marked stretch in its type's colour, and the tag that names the type.
    each(root, "[data-span-color]", function (el) {
      var color = el.dataset.spanColor;
      if (!/^#[0-9a-fA-F]{6}$/.test(color)) return;
      el.style.backgroundColor = color + "40";
      el.style.boxShadow = "0 -2px 0 " + color + " inset";
    });
    each(root, "[data-tag-color]", function (el) {
      if (/^#[0-9a-fA-F]{6}$/.test(el.dataset.tagColor)) el.style.backgroundColor = el.dataset.tagColor;
    });
  }

  document.addEventListener("DOMContentLoaded", function () { apply(document); });
  // htmx fires htmx:load on every element it swaps in.
  document.addEventListener("htmx:load", function (evt) { apply(evt.target); });
})();
