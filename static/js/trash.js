// trash: the toast after a delete ("Moved to trash · Undo") or a restore, and the reason for a
// refused request. Without this file the toasts simply stay until the next page.
(function () {
  "use strict";

  var keyboard = false;  // the delete under way was pressed from the keyboard

  function dismiss(toast) {
    if (toast) toast.remove();
  }

  // A toast goes when its timer bar's animation ends (about 6 s). CSS pauses the animation
  // while the toast is hovered or holds focus, so it stays for as long as someone is on it.
  document.addEventListener("animationend", function (event) {
    if (event.target.matches(".toast-timer")) dismiss(event.target.closest("[data-toast]"));
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-toast-close]");
    if (close) dismiss(close.closest("[data-toast]"));
  });

  // The Delete button leaves with its card. Someone on the keyboard lands on Undo instead of
  // the top of the page; a mouse user's focus is left alone, so the toast still times out.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches("[data-trash-form]")) {
      keyboard = !!form.querySelector(":focus-visible");
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var region = event.detail.target;
    if (!region || region.id !== "trash-toast" || !keyboard) return;
    keyboard = false;
    var undo = region.querySelector(".toast-undo, .toast-close");
    if (undo) undo.focus();
  });

  // A refused cancel, delete or restore (403: a teammate's video on a page older than a role
  // change) swaps nothing; the toast says why, in the server's words.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var form = event.detail.elt;
    var region = document.getElementById("trash-toast");
    if (!region || !form.closest || !form.closest("[data-trash-form]")) return;
    var reason = "That did not work (" + xhr.status + "). Reload the page and try again.";
    if (xhr.status === 403 || xhr.status === 404) {
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var said = page.querySelector(".error-card .muted");
      reason = said ? said.textContent.trim() : reason;
    }
    var toast = document.createElement("div");
    toast.className = "toast toast-note toast-error";
    toast.setAttribute("data-toast", "");
    var text = document.createElement("p");
    text.className = "toast-text";
    text.textContent = reason;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-toast-close", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    var timer = document.createElement("span");
    timer.className = "toast-timer";
    timer.setAttribute("aria-hidden", "true");
    toast.append(text, close, timer);
    region.replaceChildren(toast);
  });
})();
