// A broadcast's delivery counts, refreshed every few seconds until it is finished.
// Without JavaScript the page says to reload it. The state and the numbers come from the server in
// the page's language (composer_routes.progress_json).
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section || !window.fetch) { return; }
  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (n) { n.hidden = false; });
  Array.prototype.forEach.call(document.querySelectorAll(".no-js"), function (n) { n.hidden = true; });
  var url = section.getAttribute("data-url");
  var names = ["delivered", "sent", "sending", "queued", "held", "failed", "unknown", "cancelled"];

  function render(p) {
    section.querySelector("[data-progress=status]").textContent = p.state;
    // Numbers as the page's language writes them, from the server (`shown`).
    section.querySelector("[data-progress=audience]").textContent = p.audience_shown;
    // A broadcast written once per language: someone whose language is not known has a text of each.
    var written = section.querySelector("[data-progress=written]");
    if (written) { written.textContent = p.written_shown; }
    var total = p.written || p.audience || 1;
    names.forEach(function (name) {
      section.querySelector("[data-count=" + name + "]").textContent = p.shown[name];
      section.querySelector("[data-bar=" + name + "]").style.width = (100 * p.counts[name] / total).toFixed(1) + "%";
    });
    // The page's own word for it (data-finished-words), not English written here.
    if (p.finished) { document.getElementById("progress-hint").textContent = section.getAttribute("data-finished-words"); }
  }

  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (p) {
      if (!p) { return; }
      render(p);
      if (!p.finished) { setTimeout(poll, 2000); }
    }).catch(function () { setTimeout(poll, 5000); });
  }

  if (section.getAttribute("data-finished") !== "1") { setTimeout(poll, 1000); }
})();
