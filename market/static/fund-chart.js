// Draws the governance fund's monthly chart from the data its canvas carries (amounts in 分) with the
// vendored Chart.js; without script the table under the chart shows the same figures.
(function () {
  "use strict";
  var canvas = document.querySelector("canvas[data-fund-chart]");
  if (!canvas || !window.Chart) return;
  var data = JSON.parse(canvas.getAttribute("data-fund-chart"));
  var css = getComputedStyle(document.documentElement);
  var colour = function (name, fallback) { return (css.getPropertyValue(name) || fallback).trim(); };
  var lang = document.documentElement.lang || "zh-CN";
  var money = function (yuan, digits) {
    return "¥" + yuan.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  };
  var colon = lang.indexOf("zh") === 0 ? "：" : ": ";
  // 分 → 元 for display only; the page's figures come from the server as exact integers
  var yuan = function (fen) { return fen / 100; };
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.months,
      datasets: [
        { label: canvas.getAttribute("data-label-in"), data: data.inflow_fen.map(yuan), backgroundColor: colour("--ok", "#1e7b3a") },
        { label: canvas.getAttribute("data-label-out"), data: data.outflow_fen.map(yuan), backgroundColor: colour("--brand", "#b3261e") }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return money(v, 0); } } } },
      plugins: {
        legend: { position: "bottom" },
        tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + colon + money(ctx.parsed.y, 2); } } }
      }
    }
  });
  canvas.setAttribute("data-drawn", "true");
})();
