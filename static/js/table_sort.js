// Sortable tables: in a <table data-sortable>, each heading becomes a button that sorts the rows by its
// column, ascending then descending. A heading with data-sort="number" compares numbers: the cell's
// data-value where it has one, else its text; empty or non-numeric cells always go last. No libraries.
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    const cell = row.cells[index];
    if (!cell) return numeric ? NaN : "";
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }

  function compare(a, b, numeric, direction) {
    if (numeric) {
      const aMissing = Number.isNaN(a), bMissing = Number.isNaN(b);
      if (aMissing || bMissing) return aMissing - bMissing; // missing last, whatever the direction
      return (a - b) * direction;
    }
    return a.localeCompare(b) * direction;
  }

  function sortBy(table, heading) {
    const index = heading.cellIndex;
    const numeric = heading.dataset.sort === "number";
    const direction = heading.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    table.querySelectorAll("thead th").forEach((th) => th.removeAttribute("aria-sort"));
    heading.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).filter((row) => row.cells.length > 1);
    rows
      .map((row, position) => ({ row, position, value: cellValue(row, index, numeric) }))
      .sort((a, b) => compare(a.value, b.value, numeric, direction) || a.position - b.position)
      .forEach(({ row }) => body.appendChild(row));
  }

  function enhance(table) {
    table.querySelectorAll("thead th").forEach((heading) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      button.title = heading.title || "Sort by this column";
      while (heading.firstChild) button.appendChild(heading.firstChild);
      heading.appendChild(button);
      button.addEventListener("click", () => sortBy(table, heading));
    });
  }

  function init() {
    document.querySelectorAll("table[data-sortable]").forEach(enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
