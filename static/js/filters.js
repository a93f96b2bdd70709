// Search and filters (templates/videos/gallery/_toolbar.html). The toolbar is a plain GET form
// and works without this file; here: `/` focuses the search, Escape clears it, the Filters panel
// folds away on a phone, and a page htmx restores from its history shows the filters of its URL.
(function () {
  "use strict";
  var PHONE = window.matchMedia("(max-width: 700px)");
  var TEXT_TYPES = ["text", "search", "email", "url", "password", "number", "date", "tel"];

  function typingIn(el) {
    if (!el || !el.matches) return false;
    if (el.isContentEditable || el.matches("textarea, select")) return true;
    return el.matches("input") && TEXT_TYPES.indexOf(el.type) !== -1;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingIn(event.target)) {
      var box = document.querySelector("[data-filter-search]");
      if (!box) return;
      event.preventDefault(); // or the "/" would be typed into the box
      box.focus();
      box.select();
      return;
    }
    if (event.key === "Escape" && event.target.matches("[data-filter-search]")) {
      var input = event.target;
      if (!input.value) {
        input.blur();
        return;
      }
      // Ours, not the browser's clear: htmx's "keyup changed" then sends the emptied search.
      event.preventDefault();
      input.value = "";
    }
  });

  // Open beside the grid on a wide screen; folded behind its "Filters" button on a phone (the
  // server renders it open, so it is never hidden without JavaScript).
  function fitPanel() {
    var panel = document.querySelector("[data-filters-panel]");
    if (panel) panel.open = !PHONE.matches;
  }
  fitPanel();
  PHONE.addEventListener("change", fitPanel);

  // htmx keeps a snapshot of the page per URL for the back button, taken after the fields had
  // already changed for the next URL: the fields are set from the restored URL instead.
  document.addEventListener("htmx:historyRestore", function () {
    var form = document.getElementById("gallery-filters");
    if (!form) return;
    var params = new URLSearchParams(window.location.search);
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name) return;
      var value = params.get(field.name) || "";
      if (field.type === "checkbox") field.checked = value === field.value;
      else if (field.tagName === "SELECT" || field.tagName === "INPUT") field.value = value;
    });
  });
})();
