// live: the gallery's one poll for every card in progress, countdowns, "finished while you were
// away" (tab title, opt-in notification, aria-live), and Ctrl/Cmd+Enter in the composer.
// Progressive enhancement: without this file the gallery refreshes itself (<noscript>).
(function () {
  "use strict";

  var NOTIFY_KEY = "studio.live.notify";
  var FINAL = { completed: "finished", failed: "failed", moderated: "was refused by moderation" };
  var timer = null;      // the next tick, when one is armed
  var inFlight = false;  // a poll is out: the next is armed only once it is answered
  var offset = 0;        // pages with more live cards than a poll takes send them in turns
  var polled = {};       // ids sent in the poll under way: a card of these that comes back final just finished
  var unseen = 0;        // own videos finished since the tab was last visible
  var failures = 0;      // polls in a row that got no answer: each waits longer

  function bar() { return document.getElementById("live"); }
  function poller() { return document.getElementById("live-poller"); }

  function liveCards() {
    return Array.prototype.slice.call(document.querySelectorAll(".card[data-live][id^='video-']"));
  }

  // Arms the next tick while anything on the page is running; nothing is armed otherwise, so a
  // page with no card in progress sends nothing. A card without a key (rendered by a view that
  // does not compute its state) is asked about at once.
  function arm() {
    if (!poller() || timer !== null || inFlight) return;
    var cards = liveCards();
    summarise(cards.length);
    if (!cards.length) return;
    var interval = parseInt(bar().dataset.interval, 10) || 2000;
    var fresh = !failures && cards.some(function (card) { return !card.dataset.live; });
    timer = window.setTimeout(tick, fresh ? 0 : interval * Math.min(Math.pow(2, failures), 15));
  }

  function tick() {
    timer = null;
    if (!liveCards().length) return summarise(0);
    htmx.trigger(poller(), "live:tick");
  }

  function summarise(count) {
    var summary = document.querySelector("[data-live-summary]");
    if (!summary) return;
    summary.hidden = count === 0;
    summary.textContent = count === 1 ? "1 video in progress" : count + " videos in progress";
  }

  // The request's cards=: each live card's id and key, read from the DOM at this moment.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== poller()) return;
    var cards = liveCards();
    var max = parseInt(bar().dataset.maxCards, 10) || 100;
    if (offset >= cards.length) offset = 0;
    var batch = cards.slice(offset, offset + max);
    offset = cards.length > max ? offset + max : 0;
    polled = {};
    event.detail.parameters.cards = batch.map(function (card) {
      var id = card.id.slice("video-".length);
      polled[id] = true;
      return id + "-" + (card.dataset.live || "");
    }).join(",");
    inFlight = true;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt !== poller()) return;
    inFlight = false;
    polled = {};
    failures = event.detail.successful ? 0 : failures + 1;
    arm();
  });

  // Each card the poll swaps in: did one of the viewer's own videos just end?
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var card = event.target;
    if (!card.matches || !card.matches(".card[id^='video-']")) return;
    var outcome = FINAL[card.dataset.status];
    if (polled[card.id.slice("video-".length)] && outcome && card.hasAttribute("data-mine")) {
      finished(card, outcome);
    }
  });

  // Anything htmx brings in (a new card, a Retry, an Undo, the next page) may be running.
  document.addEventListener("htmx:load", function () { arm(); });
  document.addEventListener("DOMContentLoaded", function () { arm(); setupNotify(); });

  // Finished while away: title count, notification, announcement.

  function firstWords(card) {
    var prompt = card.querySelector(".card-prompt");
    var words = (prompt ? prompt.textContent : "").trim().split(/\s+/).slice(0, 6).join(" ");
    return words || "(image only)";
  }

  function finished(card, outcome) {
    var message = "Your video \u201c" + firstWords(card) + "\u201d " + outcome;
    announce(message);
    if (document.visibilityState !== "visible") {
      unseen += 1;
      retitle();
      notify(message, card);
    }
  }

  function announce(message) {
    var region = document.getElementById("live-announcer");
    if (!region) return;
    var line = document.createElement("span");
    line.textContent = message + ". ";
    region.appendChild(line);
    // Keep the region short; screen readers have already read what went before.
    while (region.childNodes.length > 3) region.removeChild(region.firstChild);
  }

  // The title keeps whatever the page (or a dialog) set; only our "(N) " prefix is ours.
  function retitle() {
    var base = document.title.replace(/^\(\d+\) /, "");
    document.title = unseen ? "(" + unseen + ") " + base : base;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && unseen) {
      unseen = 0;
      retitle();
    }
  });

  // The opt-in notification: asked for only when the button is pressed, remembered per browser.

  function notifyWanted() {
    try { return window.localStorage.getItem(NOTIFY_KEY) === "on"; } catch (e) { return false; }
  }

  function setNotifyWanted(on) {
    try { window.localStorage.setItem(NOTIFY_KEY, on ? "on" : "off"); } catch (e) { /* private mode */ }
  }

  function notify(message, card) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !notifyWanted()) return;
    var note = new Notification(message, { tag: card.id, body: "Studio" });
    note.onclick = function () { window.focus(); card.scrollIntoView({ block: "center" }); note.close(); };
  }

  function setupNotify() {
    var button = document.querySelector("[data-live-notify]");
    if (!button || !("Notification" in window)) return;
    button.hidden = false;
    showNotify(button);
  }

  function showNotify(button) {
    var label = button.querySelector("[data-live-notify-label]");
    var on = notifyWanted() && Notification.permission === "granted";
    var blocked = Notification.permission === "denied";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.classList.toggle("is-on", on);
    button.disabled = blocked;
    label.textContent = blocked ? "Notifications are blocked in this browser"
      : on ? "Notifying you when your videos finish" : "Notify me when my videos finish";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-live-notify]");
    if (!button) return;
    if (notifyWanted() && Notification.permission === "granted") {
      setNotifyWanted(false);
      return showNotify(button);
    }
    Notification.requestPermission().then(function (permission) {
      setNotifyWanted(permission === "granted");
      showNotify(button);
    });
  });

  // Countdowns (rate limit, backoff, pause): counted down from the seconds the server gave when
  // it drew the card, so a client clock that is off does not matter.
  var deadlines = new WeakMap();

  function clock(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  window.setInterval(function () {
    document.querySelectorAll("[data-until][data-seconds]").forEach(function (el) {
      if (!deadlines.has(el)) deadlines.set(el, Date.now() + parseInt(el.dataset.seconds, 10) * 1000);
      var left = Math.max(0, Math.round((deadlines.get(el) - Date.now()) / 1000));
      el.textContent = left ? clock(left) : "any moment";
    });
  }, 1000);

  // Ctrl/Cmd+Enter in the composer submits it; requestSubmit fires the submit event, so htmx
  // (and every other listener) handles it as a click on Generate would.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
    var form = event.target.closest && event.target.closest("#new-video");
    if (!form || !event.target.matches("textarea")) return;
    event.preventDefault();
    form.requestSubmit();
  });
})();
