// Bulk selection on the gallery (templates/videos/gallery/_bulkbar.html, card/_select.html).
// The checkboxes already work without this script (they belong to the bar's form); this adds
// the floating bar, "N selected", Shift-click ranges, Select all, Esc to clear, and the order of
// selection (shown as numbers on the cards), which is the order a join plays the clips in.
// The selection lives here, by video id, so it survives cards being swapped by polling and
// the pages infinite scroll appends.
(function () {
  "use strict";

  const order = []; // selected video ids (strings), in the order they were picked
  let anchor = null; // the last box clicked, for Shift-click ranges

  const bar = () => document.querySelector("[data-bulkbar]");
  const boxes = () => Array.from(document.querySelectorAll("input[data-select]"));

  function pick(id, on) {
    const at = order.indexOf(id);
    if (on && at === -1) order.push(id);
    if (!on && at !== -1) order.splice(at, 1);
  }

  function render() {
    const form = bar();
    if (!form) return;
    // Only what is on the page stays selected: cards a new search replaced, or an action took
    // away, must not be acted on unseen. (A poll's swap puts the same card back at once.)
    const present = new Set(boxes().map((box) => box.value));
    for (const id of order.slice()) if (!present.has(id)) pick(id, false);
    const count = order.length;
    form.classList.toggle("is-active", count > 0);
    document.body.classList.toggle("has-selection", count > 0);
    form.querySelector("[data-bulk-count]").textContent = String(count);
    form.querySelector("[data-bulk-order]").value = order.join(",");
    const join = form.querySelector("[data-bulk-join]");
    join.disabled = count < 2;
    join.title = count < 2 ? "Select at least two finished videos to join" : "";
    form.querySelector("[data-bulk-hint]").hidden = count < 2;
    for (const box of boxes()) {
      const at = order.indexOf(box.value);
      box.checked = at !== -1;
      const card = box.closest(".card");
      if (card) card.classList.toggle("is-selected", at !== -1);
      const badge = box.parentElement.querySelector("[data-select-order]");
      if (badge) badge.textContent = at === -1 ? "" : String(at + 1);
    }
  }

  function clear() {
    order.length = 0;
    anchor = null;
    render();
  }

  document.addEventListener("click", function (event) {
    const box = event.target.closest("input[data-select]");
    if (box) {
      const all = boxes();
      if (event.shiftKey && anchor && anchor !== box && all.includes(anchor)) {
        // The whole range between the last box clicked and this one takes this box's state,
        // picked in the direction the range was swept.
        const from = all.indexOf(anchor);
        const to = all.indexOf(box);
        const step = from < to ? 1 : -1;
        for (let i = from; i !== to + step; i += step) pick(all[i].value, box.checked);
      } else {
        pick(box.value, box.checked);
      }
      anchor = box;
      render();
      return;
    }
    if (event.target.closest("[data-bulk-clear]")) {
      clear();
    } else if (event.target.closest("[data-bulk-all]")) {
      for (const box of boxes()) pick(box.value, true);
      render();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !order.length) return;
    // Esc belongs to an open dialog (the detail view) or a field being edited first.
    if (document.querySelector("dialog[open]")) return;
    if (event.target.closest("input:not([data-select]), textarea, select")) return;
    clear();
  });

  // New cards (a poll's swap, the next page, a joined video) come unticked: tick the picked ones.
  document.addEventListener("htmx:load", render);

  function fromBar(event) {
    const form = bar();
    return form && form.contains(event.detail.elt);
  }

  // A refusal (400) carries the message saying why: show it in the bar like any answer.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (fromBar(event) && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The answer stays in view a while, even when the action emptied the selection.
  let fading = null;
  function showStatus() {
    const form = bar();
    form.classList.add("has-status");
    clearTimeout(fading);
    fading = setTimeout(function () {
      form.classList.remove("has-status");
    }, 6000);
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!fromBar(event)) return;
    showStatus();
    if (!event.detail.successful) return;
    const action = event.detail.elt.value;
    if (action === "add") return; // the same videos may go to another collection next
    if (action === "join") order.length = 0;
    anchor = null;
    render();
  });

  // "Remove" acts on the collection the gallery shows: follow the filter as the search swaps it.
  function followCollection() {
    const form = bar();
    if (!form) return;
    const current = new URLSearchParams(window.location.search).get("collection") || "";
    const select = form.querySelector("select[name=collection]");
    const known = current && select.querySelector(`option[value="${CSS.escape(current)}"]`);
    form.querySelector("[data-bulk-remove]").hidden = !known;
    if (known) select.value = current;
  }
  document.addEventListener("htmx:pushedIntoHistory", followCollection);
  window.addEventListener("popstate", followCollection);

  function start() {
    const form = bar();
    if (!form) return;
    form.classList.add("is-enhanced");
    // The order is the one picked here; a plain submit (the zip) sends it too.
    form.addEventListener("submit", render);
    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
