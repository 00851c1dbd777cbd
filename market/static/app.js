// Small enhancements of the server-rendered pages; every page also works without this file.
(function () {
  "use strict";
  var groups = function () { return document.querySelectorAll("details.navgroup[open]"); };
  // One open dropdown at a time, closed by a click elsewhere or Escape.
  document.addEventListener("toggle", function (event) {
    var el = event.target;
    if (!el.matches || !el.matches("details.navgroup") || !el.open) return;
    groups().forEach(function (other) { if (other !== el) other.open = false; });
  }, true);
  document.addEventListener("click", function (event) {
    groups().forEach(function (g) { if (!g.contains(event.target)) g.open = false; });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") groups().forEach(function (g) { g.open = false; });
  });
  // Browsers without ::details-content cannot show a closed <details> on wide screens through CSS:
  // open the menu and the search facets there instead.
  var supported = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (!supported && window.matchMedia("(min-width: 721px)").matches) {
    document.querySelectorAll("details.fold-narrow, details.facets").forEach(function (d) { d.open = true; });
  }
})();
