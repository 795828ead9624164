// Ages and staleness of every live number, and the state of the live connection.
// A number whose reading is older than its limit turns grey and says so, even if the
// server has gone quiet: nothing frozen may look live. The limit is the element's own
// (data-stale-ms, from its series' cadence: a few seconds past the first missed point)
// or the page's default (data-stale-after on <body>, in seconds).
(function () {
  "use strict";
  var staleAfter = (parseFloat(document.body.dataset.staleAfter) || 30) * 1000;

  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s";
    var m = Math.round(s / 60);
    if (m < 60) return m + " min";
    var h = Math.round(m / 60);
    if (h < 48) return h + " h";
    return Math.round(h / 24) + " d";
  }

  function refreshAges() {
    var now = Date.now();
    document.querySelectorAll("[data-ts]").forEach(function (el) {
      var ts = parseInt(el.dataset.ts, 10);
      var age = el.querySelector(":scope > .age, :scope > footer > .age, :scope > .meta > .age, :scope > .health-line > .age");
      if (!ts) {
        el.classList.add("is-stale");
        if (age) age.textContent = "no data";
        return;
      }
      var limit = parseInt(el.dataset.staleMs, 10) || staleAfter;
      var old = now - ts > limit;
      el.classList.toggle("is-stale", old);
      if (age) age.textContent = old ? "stale: last reading " + ago(now - ts) + " ago" : "updated " + ago(now - ts) + " ago";
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var held = now - parseInt(el.dataset.since, 10);
      el.textContent = held >= 60000 ? "(for " + ago(held) + ")" : "";
    });
  }
  refreshAges();
  setInterval(refreshAges, 1000);
  document.body.addEventListener("htmx:wsAfterMessage", refreshAges);

  // The result of an action (acknowledged, resolved, ...) shows for a few seconds, then
  // gets out of the way of the alarm cards; a click dismisses it at once.
  var toastTimer = null;
  document.body.addEventListener("htmx:afterSettle", function () {
    var toast = document.getElementById("toast");
    if (!toast || !toast.textContent.trim() || toast.dataset.timed) return;
    toast.dataset.timed = "1";  // a new toast is a new element: each gets its own timer
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.textContent = ""; }, toast.classList.contains("toast-bad") ? 10000 : 4000);
  });
  document.body.addEventListener("click", function (e) {
    if (e.target && e.target.id === "toast") e.target.textContent = "";
  });

  // Reconnect a lost live socket by itself, soon: htmx's default backoff doubles up to
  // 64 s, too long for a control room after Redis or a web process comes back. Here it
  // doubles from 0.5 s up to 5 s, with jitter so many browsers do not all come at once.
  // (Set again as each socket connects: the ws extension puts its default in at load.)
  function reconnectDelay(retries) {
    var ceiling = Math.min(500 * Math.pow(2, retries), 5000);
    return ceiling / 2 + Math.random() * ceiling / 2;
  }
  function useReconnectDelay() { if (window.htmx) htmx.config.wsReconnectDelay = reconnectDelay; }
  useReconnectDelay();
  document.addEventListener("DOMContentLoaded", useReconnectDelay);
  document.body.addEventListener("htmx:wsConnecting", useReconnectDelay);

  var banner = document.getElementById("connection");
  document.body.addEventListener("htmx:wsClose", function (e) {
    if (banner) banner.hidden = false;
    // 4403: the server closed the socket because this person's access changed (access
    // removed, logged out, account deactivated). Reload: the page checks access afresh and
    // either reconnects or says the site is not there / asks to log in.
    var code = e.detail && e.detail.event && e.detail.event.code;
    if (code === 4401 || code === 4403) window.location.reload();
    // 4503: the server lost its channel layer (Redis); try again in a moment. Further
    // failed attempts are retried by htmx with the backoff above until Redis is back.
    var socket = e.detail && e.detail.socketWrapper;
    if (code === 4503 && socket) setTimeout(socket.reconnect, reconnectDelay(0));
  });
  document.body.addEventListener("htmx:wsError", function () { if (banner) banner.hidden = false; });
  document.body.addEventListener("htmx:wsOpen", function () { if (banner) banner.hidden = true; });
})();
