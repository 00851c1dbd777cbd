// The "how to use it" panel of an API / verification entitlement: the daily calls chart (vendored
// Chart.js) and the copy button of the example call. The panel arrives by htmx, so both are wired
// on load and again after every swap.
(function () {
  "use strict";
  function wire(root) {
    root.querySelectorAll("canvas[data-usage-chart]:not([data-drawn])").forEach(function (canvas) {
      if (!window.Chart) return;
      var data = JSON.parse(canvas.getAttribute("data-usage-chart"));
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: data.days, datasets: [{ label: canvas.getAttribute("data-label"), data: data.calls }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
                   plugins: { legend: { position: "bottom" } } }
      });
      canvas.setAttribute("data-drawn", "true");
    });
    root.querySelectorAll("[data-copy]:not([data-wired])").forEach(function (button) {
      button.setAttribute("data-wired", "true");
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        if (source && navigator.clipboard) navigator.clipboard.writeText(source.textContent);
      });
    });
  }
  wire(document);
  document.body.addEventListener("htmx:afterSwap", function (event) { wire(event.target); });
})();
