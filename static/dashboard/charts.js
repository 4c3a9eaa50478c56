// Dashboard charts (templates/dashboard/*.html). Each <canvas data-chart="bar" data-table="ID">
// is drawn from the table with that id, which stays on the page with the same numbers: the
// first column labels the bars (its data-label, else its text), every other column is one dataset (its header is the name,
// each cell's data-value the number). No inline script: this file runs under the strict CSP.
// Live: the dashboard.tiles socket re-sends the age and results panels (tables included); after
// each message the charts whose canvas was replaced are destroyed and drawn again from the new tables.
(function () {
  "use strict";
  // Colours with at least 4.5:1 contrast against the white page (WCAG AA, also for text);
  // tests/dashboard/test_charts.py checks these values.
  var PALETTE = { blue: "#0a58ca", red: "#b02a37", green: "#146c43", grey: "#495057" };
  var DEFAULT = ["blue", "red", "green", "grey"];
  var TEXT = "#212529";
  var charts = {}; // data-table id -> the Chart drawn from it

  function datasetsFrom(table, colours) {
    var heads = table.querySelectorAll("thead th");
    var rows = table.querySelectorAll("tbody tr");
    var labels = [];
    var sets = [];
    for (var c = 1; c < heads.length; c += 1) {
      var colour = PALETTE[colours[c - 1]] || PALETTE[DEFAULT[(c - 1) % DEFAULT.length]];
      sets.push({ label: heads[c].textContent.trim(), data: [], backgroundColor: colour, borderColor: colour });
    }
    for (var r = 0; r < rows.length; r += 1) {
      var cells = rows[r].children;
      labels.push(cells[0].getAttribute("data-label") || cells[0].textContent.trim());
      for (var k = 1; k < cells.length && k <= sets.length; k += 1) {
        var value = parseFloat(cells[k].getAttribute("data-value"));
        sets[k - 1].data.push(isNaN(value) ? 0 : value);
      }
    }
    return { labels: labels, datasets: sets };
  }

  function draw(canvas) {
    if (canvas.getAttribute("data-drawn") || typeof window.Chart === "undefined") { return; }
    var table = document.getElementById(canvas.getAttribute("data-table"));
    if (!table) { return; }
    var stacked = canvas.getAttribute("data-stacked") === "1";
    var colours = (canvas.getAttribute("data-colors") || "").split(" ");
    canvas.setAttribute("data-drawn", "1");
    var id = canvas.getAttribute("data-table");
    if (charts[id]) { charts[id].destroy(); } // its canvas left the page with the old panel
    charts[id] = new window.Chart(canvas, {
      type: canvas.getAttribute("data-chart") || "bar",
      data: datasetsFrom(table, colours),
      options: {
        animation: false,
        responsive: true,
        scales: {
          x: { stacked: stacked, ticks: { color: TEXT } },
          y: { stacked: stacked, beginAtZero: true, ticks: { color: TEXT, precision: 0 } }
        },
        plugins: { legend: { labels: { color: TEXT } } }
      }
    });
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i += 1) { draw(canvases[i]); }
    for (var id in charts) { // a kind that left the estate: its chart goes with its canvas
      if (Object.prototype.hasOwnProperty.call(charts, id) && !charts[id].canvas.isConnected) {
        charts[id].destroy();
        delete charts[id];
      }
    }
  }

  document.addEventListener("htmx:wsAfterMessage", drawAll);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
