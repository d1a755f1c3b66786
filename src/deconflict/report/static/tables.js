// deconflict report: sortable tables (click a heading; again to reverse). No dependencies.
(function () {
  "use strict";
  // "—" (no value) sorts last; numbers like "1.2e-05" or "9.5 (1.1–3)" sort by their first number.
  function key(cell, numeric) {
    var text = (cell.textContent || "").trim();
    if (!numeric) return text.toLowerCase();
    var m = text.replace(/,/g, "").match(/-?\d+(\.\d+)?(e-?\d+)?/i);
    return m ? parseFloat(m[0]) : Infinity;
  }
  function sortBy(table, column, header) {
    var body = table.tBodies[0];
    var numeric = header.classList.contains("num");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[column], numeric), y = key(b.cells[column], numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      header.addEventListener("click", function () { sortBy(table, column, header); });
    });
  });
})();
