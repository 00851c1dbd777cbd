// Draws the regulator desk's caps-against-prices chart from the data its canvas carries (amounts in 分)
// with the vendored Chart.js; without script the table under the chart shows the same figures.
(function () {
  "use strict";
  var canvas = document.querySelector("canvas[data-caps-chart]");
  if (!canvas || !window.Chart) return;
  var data = JSON.parse(canvas.getAttribute("data-caps-chart"));
  var css = getComputedStyle(document.documentElement);
  var colour = function (name, fallback) { return (css.getPropertyValue(name) || fallback).trim(); };
  var yuan = function (fen) { return fen / 100; };
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: canvas.getAttribute("data-label-cap"), data: data.cap.map(yuan), backgroundColor: colour("--muted", "#666") },
        { label: canvas.getAttribute("data-label-plan"), data: data.plan.map(yuan), backgroundColor: colour("--brand", "#b3261e") },
        { label: canvas.getAttribute("data-label-sold"), data: data.sold.map(yuan), backgroundColor: colour("--ok", "#1e7b3a") }
      ]
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false,
               scales: { y: { beginAtZero: true } }, plugins: { legend: { position: "bottom" } } }
  });
  canvas.setAttribute("data-drawn", "true");
})();
