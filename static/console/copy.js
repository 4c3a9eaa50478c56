// Copy buttons: <button data-copy="ID"> copies the text of element #ID, and says so in the
// element [data-copy-status="ID"] (a live region), or says how to copy by hand if it cannot.
(function () {
  "use strict";
  function status(id, text) {
    var out = document.querySelector('[data-copy-status="' + id + '"]');
    if (out) { out.textContent = text; }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var id = button.getAttribute("data-copy");
    var source = document.getElementById(id);
    if (!source) { return; }
    var text = source.textContent.trim();
    var manual = function () {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status(id, "Selected: press Ctrl+C (⌘C) to copy.");
    };
    if (!navigator.clipboard || !window.isSecureContext) { manual(); return; }
    navigator.clipboard.writeText(text).then(function () { status(id, "Copied."); }, manual);
  });
}());
