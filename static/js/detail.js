// The detail view over the gallery: a card's prompt link opens the video in a <dialog> with its
// own URL (/videos/<id>/), Esc or Back closes it, ← and → browse the gallery's cards in order.
// Without JavaScript the same links open the full page. Also: the composer's stored images
// (Reuse, Continue) and copy buttons.
(function () {
  "use strict";
  var dialog = null;
  var body = null;
  var opener = null; // the element to give focus back to
  var pushed = false; // our history entry is on top

  function ensureDialog() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "detail-dialog";
    dialog.setAttribute("aria-label", "Video details");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "detail-close";
    close.setAttribute("aria-label", "Close (Esc)");
    close.textContent = "×";
    close.addEventListener("click", function () { dialog.close(); });
    body = document.createElement("div");
    body.className = "detail-dialog-body";
    dialog.append(close, body);
    document.body.append(dialog);
    dialog.addEventListener("close", function () {
      body.querySelectorAll("video").forEach(function (v) { v.pause(); });
      if (pushed) {
        pushed = false;
        history.back(); // back to the gallery's own URL
      }
      if (opener && opener.isConnected) opener.focus();
    });
    // A click on the backdrop (outside the dialog's box) closes it.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      if (event.target.closest("input, textarea, select, video")) return;
      event.preventDefault();
      browse(event.key === "ArrowLeft" ? -1 : 1);
    });
    return dialog;
  }

  function open(url, replace) {
    ensureDialog();
    return htmx.ajax("GET", url, { target: body, swap: "innerHTML" }).then(function () {
      if (replace || pushed) {
        history.replaceState({ detail: url }, "", url);
      } else {
        history.pushState({ detail: url }, "", url);
        pushed = true;
      }
      if (!dialog.open) dialog.showModal();
      var title = body.querySelector("#detail-title");
      if (title) {
        title.setAttribute("tabindex", "-1");
        title.focus();
      }
    });
  }

  // The card next to the one shown, in the gallery's DOM order (newest first).
  function browse(step) {
    var shown = body.querySelector("[data-video]");
    if (!shown) return;
    var cards = Array.prototype.slice.call(document.querySelectorAll("#gallery-grid .card"));
    var index = cards.findIndex(function (card) { return card.id === "video-" + shown.dataset.video; });
    var next = index === -1 ? null : cards[index + step];
    var link = next && next.querySelector("a[data-detail]");
    if (link) {
      opener = link;
      open(link.getAttribute("href"), true);
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-detail]");
    if (link && document.getElementById("gallery-grid") && !event.ctrlKey && !event.metaKey &&
        !event.shiftKey && !event.altKey && event.button === 0) {
      event.preventDefault();
      if (!dialog || !dialog.open) opener = link;
      open(link.getAttribute("href"), dialog && dialog.open);
      return;
    }
    // A card still in progress has no player: its picture opens the detail too.
    var media = event.target.closest("#gallery-grid .card-media");
    if (media && !event.target.closest("[data-play], video, a, button, input")) {
      var prompt = media.closest(".card").querySelector("a[data-detail]");
      if (prompt) {
        opener = prompt;
        open(prompt.getAttribute("href"), dialog && dialog.open);
        return;
      }
    }
    var back = event.target.closest("[data-detail-close]");
    if (back && dialog && dialog.open) {
      event.preventDefault();
      dialog.close();
      return;
    }
    var copy = event.target.closest("[data-copy-text]");
    if (copy) {
      var source = document.querySelector(copy.dataset.copyText);
      if (source && navigator.clipboard) navigator.clipboard.writeText(source.textContent.trim());
      copy.textContent = "Copied";
      return;
    }
    // Remove on a stored image (Reuse, Continue): the slot is empty again.
    var clear = event.target.closest("[data-dropzone] [data-clear-image]");
    if (clear) {
      var stored = clear.closest("[data-dropzone]").querySelector("[data-stored]");
      if (stored) stored.remove();
      clear.closest("[data-dropzone]").classList.remove("has-stored");
      return;
    }
    var unlink = event.target.closest("[data-clear-source]");
    if (unlink) unlink.closest("[data-source]").remove();
  });

  // A new file in a slot replaces the stored image there.
  document.addEventListener("change", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone || !event.target.matches("input[type=file]")) return;
    var stored = zone.querySelector("[data-stored]");
    if (stored && event.target.files.length) {
      stored.remove();
      zone.classList.remove("has-stored");
    }
  });

  window.addEventListener("popstate", function () {
    if (dialog && dialog.open && pushed) {
      pushed = false;
      dialog.close();
    }
  });

  // Reuse and Continue swap in a filled composer: bring it into view and put the caret in it.
  // Retry from the dialog closes it too, to show the new card.
  document.addEventListener("htmx:afterSettle", function (event) {
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!from || !from.closest) return;
    if (from.closest("[data-reuse], [data-closes-detail]") && dialog && dialog.open) dialog.close();
    if (!from.closest("[data-reuse]")) return;
    var composer = document.getElementById("new-video");
    if (!composer) return;
    // The desktop composer is sticky and already in view; a phone's sits above the gallery.
    var top = composer.getBoundingClientRect().top;
    var bar = document.querySelector(".topbar");
    var below = bar && getComputedStyle(bar).position !== "static" ? bar.offsetHeight : 0;
    if (top < below || top > window.innerHeight * 0.5) {
      window.scrollTo({ top: window.scrollY + top - below - 12 });
    }
    var prompt = composer.querySelector("textarea");
    if (prompt) prompt.focus({ preventScroll: true });
  });
})();
