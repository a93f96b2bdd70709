// Progressive enhancement only: every form here also works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The phone's composer: folded behind "New video" until asked for, or until something is put
  // in it (Reuse, Continue, a refusal to read).
  var composerButton = document.querySelector(".composer-toggle");
  function openComposer(focus) {
    var side = composerButton.closest(".studio-side");
    side.classList.add("is-open");
    composerButton.setAttribute("aria-expanded", "true");
    var prompt = side.querySelector("#new-video textarea");
    if (focus && prompt) prompt.focus();
  }
  if (composerButton) {
    composerButton.hidden = false;
    if (document.querySelector("#new-video .error, #new-video [role=alert]")) openComposer(false);
    composerButton.addEventListener("click", function () { openComposer(true); });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "new-video") openComposer(false);
    });
  }

  // The phone's menu: the button is hidden until this script can work it.
  var menuButton = document.querySelector(".menu-toggle");
  if (menuButton) {
    menuButton.hidden = false;
    menuButton.addEventListener("click", function () {
      var open = menuButton.closest(".topbar").classList.toggle("is-open");
      menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function formatCount(n) { return n.toLocaleString("en-US"); }

  // Live character count against the prompt limit. Counts CRLF as one character, as the server does.
  function updateCounter(textarea) {
    var counter = document.getElementById(textarea.dataset.counter);
    if (!counter) return;
    var limit = parseInt(counter.dataset.limit, 10);
    var used = textarea.value.replace(/\r\n/g, "\n").length;
    counter.textContent = formatCount(used) + " / " + formatCount(limit);
    counter.classList.toggle("over", used > limit);
  }

  // Forms that ask first (delete, revoke, rotate): data-confirm holds the question. In the
  // capture phase, so a refusal stops the submit before any other listener sees it. Without
  // JavaScript the form simply submits.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Selects that apply at once (team switcher, member roles); a <noscript> button does it
  // without JavaScript. requestSubmit fires the submit event, so data-confirm still applies.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches("select[data-autosubmit]") && select.form) select.form.requestSubmit();
  });

  // A new secret, token or invite link is selected whole on focus, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches("textarea[data-counter]")) updateCounter(event.target);
  });

  // Image drop zones (first frame, face reference): preview, drag and drop, remove.
  function showPreview(zone, file) {
    var preview = zone.querySelector(".dropzone-preview");
    var img = preview.querySelector("img");
    if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
    if (!file) {
      preview.hidden = true;
      zone.classList.remove("has-file");
      return;
    }
    img.dataset.url = URL.createObjectURL(file);
    img.src = img.dataset.url;
    preview.querySelector(".dropzone-name").textContent =
      file.name + " · " + (file.size / 1048576).toFixed(1) + " MB";
    preview.hidden = false;
    zone.classList.add("has-file");
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches("[data-dropzone] input[type=file]")) {
      showPreview(input.closest("[data-dropzone]"), input.files[0]);
    }
  });

  document.addEventListener("click", function (event) {
    // Swap a poster for the real player on demand, so a gallery of hundreds loads only posters.
    var play = event.target.closest("[data-play]");
    if (play && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      event.preventDefault();
      var video = document.createElement("video");
      video.controls = true;
      video.autoplay = true;
      video.playsInline = true;
      video.poster = play.querySelector("img").src;
      video.src = play.href;
      video.setAttribute("aria-label", play.getAttribute("aria-label"));
      play.replaceWith(video);
      video.focus();
      return;
    }
    var clear = event.target.closest("[data-clear-image]");
    if (clear) {
      event.preventDefault();
      var zone = clear.closest("[data-dropzone]");
      zone.querySelector("input[type=file]").value = "";
      showPreview(zone, null);
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var field = document.querySelector(copy.dataset.copy);
      field.select();
      navigator.clipboard && navigator.clipboard.writeText(field.value);
      copy.textContent = "Copied";
    }
  });

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var zone = event.target.closest && event.target.closest("[data-dropzone]");
      if (!zone) return;
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var zone = event.target.closest && event.target.closest("[data-dropzone]");
      if (!zone) return;
      zone.classList.remove("dragging");
      if (type !== "drop") return;
      event.preventDefault();
      var input = zone.querySelector("input[type=file]");
      if (event.dataTransfer.files.length) {
        var transfer = new DataTransfer();
        transfer.items.add(event.dataTransfer.files[0]);
        input.files = transfer.files;
        showPreview(zone, input.files[0]);
      }
    });
  });

  // Refresh counters after htmx swaps in a fresh form (or one with errors).
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    (root.querySelectorAll ? root.querySelectorAll("textarea[data-counter]") : []).forEach(updateCounter);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-counter]").forEach(updateCounter);
  });
})();
