// Live fragments. htmx's websocket extension (ws-connect, see templates/console/_live.html)
// swaps in the HTML the server renders; this script only refuses messages that are not
// fragments for this page, keeps open <details> open across swaps, and tells the reader whether
// the page is live.
(function () {
  "use strict";
  // Close codes the server uses to refuse a socket (console/consumers.py); htmx does not retry them.
  var STOPPED = {
    4400: "Live updates stopped: this page asked for something the server does not offer. Reload the page.",
    4401: "Live updates stopped: you are signed out. Reload the page to sign in again.",
    4403: "Live updates stopped: your groups no longer include this page.",
    4404: "Live updates stopped: this page asked for a feed the server does not have. Reload the page."
  };

  var RETRIED = [1006, 1011, 1012, 1013]; // what htmx's extension reconnects after

  function say(socketElt, text) {
    var state = socketElt.querySelector("[data-live-state]");
    if (state && state.textContent !== text) { state.textContent = text; }
  }

  // A message is handled only when every top-level element is an out-of-band fragment whose
  // target exists on this page; anything else (another shape, another page's fragment) is dropped.
  function isFragmentForThisPage(message) {
    if (typeof message !== "string" || message.trim().charAt(0) !== "<") { return false; }
    var template = document.createElement("template");
    template.innerHTML = message; // inert: nothing in a template runs or loads
    var roots = template.content.children;
    if (!roots.length) { return false; }
    for (var i = 0; i < roots.length; i += 1) {
      var id = roots[i].id;
      if (!id || !roots[i].hasAttribute("hx-swap-oob") || !document.getElementById(id)) { return false; }
    }
    return true;
  }

  // A fragment replaces its panel whole, so a <details> the reader opened would come back
  // closed: the open ones (by id) are noted before each swap and opened again after it.
  var opened = [];
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    if (!isFragmentForThisPage(event.detail.message)) { event.preventDefault(); return; }
    opened = Array.prototype.map.call(document.querySelectorAll("details[id][open]"), function (d) { return d.id; });
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    opened.forEach(function (id) {
      var details = document.getElementById(id);
      if (details && details.tagName === "DETAILS") { details.open = true; }
    });
  });
  document.addEventListener("htmx:wsOpen", function (event) {
    say(event.target, "Live updates: on.");
  });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail.event.code;
    var retried = RETRIED.indexOf(code) >= 0;
    say(event.target, STOPPED[code] || (retried ? "Live updates: reconnecting…" :
      "Live updates stopped. Reload the page to see changes."));
  });
}());
