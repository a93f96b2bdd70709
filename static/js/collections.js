// Favourites, collections and density. Progressive enhancement only: every control here is
// a plain form that works without this file.
(function () {
  "use strict";

  var DENSITIES = ["comfortable", "compact"];

  function applyDensity(density) {
    if (DENSITIES.indexOf(density) < 0) return;
    var grid = document.getElementById("gallery-grid");
    if (grid) {
      DENSITIES.forEach(function (d) { grid.classList.toggle("grid-" + d, d === density); });
    }
    var control = document.getElementById("gallery-density");
    if (control) {
      control.dataset.density = density;
      control.querySelectorAll("[data-density-choice]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.dataset.densityChoice === density));
      });
    }
  }

  // At once on click, so the grid changes before the round trip; htmx still posts the choice
  // (the clicked button's name and value), and the answer below confirms it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-density-choice]");
    if (button && window.htmx) applyDensity(button.dataset.densityChoice);
  });

  // The server's HX-Trigger after saving: the grid follows what was stored.
  document.body.addEventListener("densitychanged", function (event) {
    applyDensity(event.detail && event.detail.density);
  });
})();
