// The labeling-function editor shows only the fields of the chosen kind (the form posts them all; the
// server keeps the ones that belong to the kind).
(function () {
  "use strict";
  const FIELDS = {
    keyword: ["label", "keywords", "mode", "whole_words", "case_sensitive"],
    regex: ["label", "pattern", "case_sensitive", "group"],
    metadata: ["label", "field", "operator", "value"],
    python: ["code"],
  };
  const ALWAYS = ["name", "kind", "description"];

  function update(form) {
    const kind = form.querySelector("[name=kind]");
    if (!kind) return;
    const shown = new Set([...ALWAYS, ...(FIELDS[kind.value] || [])]);
    form.querySelectorAll(".field").forEach((field) => {
      const input = field.querySelector("[name]");
      if (input) field.hidden = !shown.has(input.name);
    });
  }

  function init() {
    const form = document.getElementById("lf-form");
    if (form) update(form);
  }

  document.addEventListener("change", (event) => {
    if (event.target.name === "kind") update(event.target.closest("form"));
  });
  document.addEventListener("htmx:afterSettle", init);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
