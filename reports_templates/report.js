// Sortable, filterable, paginated tables from the JSON embedded in each .rtable.
// Cells are set with textContent only, so no value from the data is ever parsed as HTML.
(function () {
  "use strict";
  var SIZES = [25, 100, 500];
  var NUMERIC = { int: 1, amount: 1, score: 1 };
  // Columns of sentences get room to read on a line or two; names do not wrap at every word.
  var PROSE = { reason: 1, reasons: 1, explanation: 1, message: 1, decision_reason: 1, examples: 1, comment: 1 };
  var NAME = /(^|_)(name|company|owner|city|domain)$/;
  var MONTH = /^\d{4}-\d{2}(-\d{2})?$/;  // a month or a day: never broken over two lines
  var SEVERITY = { error: 1, warning: 1, info: 1 };
  var formatters = {
    int: new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }),
    amount: new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    score: new Intl.NumberFormat(undefined, { minimumFractionDigits: 4, maximumFractionDigits: 4 })
  };

  function show(value, format) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number" && formatters[format]) return formatters[format].format(value);
    return String(value);
  }

  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
  }

  function setup(box) {
    var data = JSON.parse(box.querySelector("script.rdata").textContent);
    var cols = data.columns, fmts = data.formats, rows = data.rows;
    var kinds = cols.map(function (c, i) {
      if (NUMERIC[fmts[i]]) return "num";
      if (PROSE[c]) return fmts[i] + " prose";
      if (NAME.test(c)) return fmts[i] + " name";
      return fmts[i];
    });
    var severity = cols.indexOf("severity");
    var text = rows.map(function (r) {
      return r.map(function (v, i) { return show(v, fmts[i]).toLowerCase() + "\u0001" + (v === null ? "" : String(v).toLowerCase()); });
    });
    var state = { view: rows.map(function (_, i) { return i; }), col: -1, dir: 1, page: 0, size: SIZES[0] };

    var bar = make("div", "controls");
    var filter = make("input", "filter");
    filter.type = "search";
    filter.placeholder = "Filter: words, or column:word";
    filter.setAttribute("aria-label", "Filter " + data.key);
    var size = make("select", "size");
    SIZES.forEach(function (n) { var o = make("option", "", n + " per page"); o.value = n; size.appendChild(o); });
    var prev = make("button", "prev", "‹ prev"), next = make("button", "next", "next ›");
    prev.type = next.type = "button";
    var status = make("span", "status");
    [filter, size, prev, next, status].forEach(function (n) { bar.appendChild(n); });

    var scroller = make("div", "scroller");
    var table = make("table", "data");
    var head = make("tr");
    cols.forEach(function (c, i) {
      var th = make("th", kinds[i].replace(fmts[i], "").trim());
      var button = make("button", "sort", c);
      button.type = "button";
      button.title = "Sort by " + c;
      button.addEventListener("click", function () { sortBy(i); });
      th.appendChild(button);
      head.appendChild(th);
    });
    table.appendChild(make("thead")).appendChild(head);
    var body = table.appendChild(make("tbody"));
    scroller.appendChild(table);
    box.appendChild(bar);
    box.appendChild(scroller);

    function matches(i, terms) {
      var cells = text[i];
      return terms.every(function (t) {
        if (t.col >= 0) return cells[t.col].indexOf(t.word) >= 0;
        return cells.some(function (c) { return c.indexOf(t.word) >= 0; });
      });
    }

    function applyFilter() {
      var terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean).map(function (w) {
        var at = w.indexOf(":");
        var col = at > 0 ? cols.map(function (c) { return c.toLowerCase(); }).indexOf(w.slice(0, at)) : -1;
        return col >= 0 ? { col: col, word: w.slice(at + 1) } : { col: -1, word: w };
      });
      state.view = rows.map(function (_, i) { return i; }).filter(function (i) { return matches(i, terms); });
      if (state.col >= 0) order();
      state.page = 0;
      render();
    }

    function order() {
      var c = state.col, d = state.dir;
      state.view.sort(function (a, b) { return d * compare(rows[a][c], rows[b][c]) || a - b; });
    }

    function sortBy(i) {
      state.dir = state.col === i ? -state.dir : 1;
      state.col = i;
      order();
      head.querySelectorAll("th").forEach(function (th, j) {
        th.setAttribute("aria-sort", j === i ? (state.dir > 0 ? "ascending" : "descending") : "none");
      });
      render();
    }

    function render() {
      var pages = Math.max(1, Math.ceil(state.view.length / state.size));
      state.page = Math.min(state.page, pages - 1);
      var start = state.page * state.size, stop = Math.min(start + state.size, state.view.length);
      var frag = document.createDocumentFragment();
      for (var k = start; k < stop; k++) {
        var r = rows[state.view[k]], tr = make("tr");
        var level = severity >= 0 && SEVERITY[r[severity]] ? r[severity] : "";
        if (level) tr.className = "sev-" + level;
        for (var i = 0; i < cols.length; i++) {
          var v = r[i], cls = kinds[i];
          if (typeof v === "number" && v < 0) cls += " neg";
          if (typeof v === "string" && MONTH.test(v)) cls += " nowrap";
          if (i === severity && level) {
            var td = make("td", cls);
            td.appendChild(make("span", "badge sev-" + level, v));
            tr.appendChild(td);
          } else {
            tr.appendChild(make("td", cls, show(v, fmts[i])));
          }
        }
        frag.appendChild(tr);
      }
      body.replaceChildren(frag);
      var shown = state.view.length ? (start + 1) + "–" + stop : "0";
      var of = formatters.int.format(state.view.length);
      var note = state.view.length < rows.length ? " (filtered from " + formatters.int.format(rows.length) + ")" : "";
      status.textContent = "rows " + shown + " of " + of + note + " · page " + (state.page + 1) + "/" + pages;
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
      box.setAttribute("data-matches", String(state.view.length));
    }

    filter.addEventListener("input", applyFilter);
    size.addEventListener("change", function () { state.size = Number(size.value); state.page = 0; render(); });
    prev.addEventListener("click", function () { state.page -= 1; render(); });
    next.addEventListener("click", function () { state.page += 1; render(); });
    render();
  }

  document.querySelectorAll(".rtable").forEach(setup);
  // A link with data-filter (a kind on the first screen) filters the table it leads to.
  document.querySelectorAll("a[data-filter]").forEach(function (link) {
    link.addEventListener("click", function () {
      var box = document.querySelector(link.getAttribute("href"));
      var input = box && box.querySelector("input.filter");
      if (!input) return;
      input.value = link.getAttribute("data-filter");
      input.dispatchEvent(new Event("input"));
    });
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
