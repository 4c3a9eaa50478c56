// Live inventory sync progress: subscribe to "inventory.sync" on the console's live socket and
// show the counts. Events carry run ids and numbers only, never secret values.
(function () {
  "use strict";
  var box = document.getElementById("sync-live");
  if (!box || !window.WebSocket) { return; }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var retries = 0;

  function describe(e) {
    var verb = e.event === "finished" ? "finished (" + e.state + ")" : "in progress";
    var text = "Sync run #" + e.run + " of " + e.backend + " " + verb + ": seen " + e.seen +
      ", created " + e.created + ", changed " + e.changed + ", vanished " + e.vanished + ", problems " + e.errors;
    if (e.error) { text += " — " + e.error; }
    return text;
  }

  function updateRow(e) {
    var row = document.querySelector('tr[data-run="' + String(Number(e.run)) + '"]');
    if (!row) { return; }
    ["seen", "created", "changed", "vanished", "errors", "duration"].forEach(function (field) {
      var cell = row.querySelector('[data-field="' + field + '"]');
      if (cell && e[field] !== undefined && e[field] !== null) { cell.textContent = String(e[field]); }
    });
    var state = row.querySelector('[data-field="state"]');
    if (state && e.event === "finished") { state.textContent = e.state; }
  }

  function connect() {
    var socket = new WebSocket(scheme + window.location.host + "/ws/live/");
    socket.addEventListener("message", function (message) {
      var e;
      try { e = JSON.parse(message.data); } catch (err) { return; }
      if (e.type === "hello" && e.authenticated) {
        retries = 0;
        socket.send(JSON.stringify({ subscribe: "inventory.sync" }));
        return;
      }
      if (e.topic !== "inventory.sync") { return; }
      box.textContent = describe(e);
      box.classList.remove("d-none", "alert-info", "alert-success", "alert-warning", "alert-danger");
      box.classList.add(e.event !== "finished" ? "alert-info" : e.state === "succeeded" ? "alert-success" :
        e.state === "partial" ? "alert-warning" : "alert-danger");
      updateRow(e);
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401 || retries > 5) { return; }
      retries += 1;
      window.setTimeout(connect, 1000 * retries);
    });
  }
  connect();
}());
