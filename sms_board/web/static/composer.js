// The broadcast composer's live counter. The page works without it: the preview step
// shows the same figures, computed by the same code on the server. Every word and number it
// shows comes from the server in the page's language (`shown`, `summary`, `plain_hint`,
// `notes_html`: composer_routes.measure_json); nothing here is written in English.
// On a board of several languages there is a box per language, each with its own counter
// ([data-version=cy]); the server measures them together, since who gets which version
// depends on which versions are written, and sends the totals with them.
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form || !window.fetch) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll(".version"));
  var byLanguage = boxes.length > 1 || (boxes[0] && boxes[0].getAttribute("data-version") !== "");
  var token = form.querySelector("input[name=csrf_token]").value;
  var url = form.getAttribute("data-measure");
  var timer = null;
  var asked = 0;

  function chosenAreas() {
    return Array.prototype.map.call(form.querySelectorAll("input[name=area]:checked"), function (box) { return box.value; });
  }

  function part(box, name) { return box.querySelector("[data-part=" + name + "]"); }

  function show(box, name, value) {
    var node = part(box, "counter").querySelector("[data-figure=" + name + "]");
    if (node) { node.textContent = value; }
  }

  function marked(text, letter) {
    var mark = document.createElement("mark");
    mark.className = letter ? "ucs2 letter" : "ucs2";
    mark.textContent = text;
    return mark;
  }

  function clear(box) {
    ["characters", "segments", "recipients"].forEach(function (name) { show(box, name, 0); });
    show(box, "cost_text", "");
    part(box, "save-hint").hidden = true;
    part(box, "too-long").hidden = true;
    part(box, "ucs2").hidden = true;
    part(box, "summary").textContent = "";
  }

  function render(box, m) {
    ["characters", "encoding", "segments", "recipients", "cost_text"].forEach(function (name) {
      show(box, name, m.shown[name]);
    });
    // The words come from the server (composer.save_hint), as on the preview page.
    var save = part(box, "save-hint");
    save.textContent = m.save_hint || "";
    save.hidden = !m.save_hint;
    part(box, "too-long").hidden = !m.too_long;
    part(box, "ucs2").hidden = m.forcing.length === 0;
    // Each character and what becomes of it: a letter is kept as written, never offered for a fix.
    var list = part(box, "ucs2-list");
    list.textContent = "";
    m.why.forEach(function (pair) {
      var item = document.createElement("li");
      item.appendChild(marked(pair[0], m.taken_out.indexOf(pair[0]) < 0));
      item.appendChild(document.createTextNode(" " + pair[1]));
      list.appendChild(item);
    });
    var highlight = part(box, "highlight");
    highlight.textContent = "";
    m.runs.forEach(function (run) {
      highlight.appendChild(run[1] ? marked(run[0], run[2]) : document.createTextNode(run[0]));
    });
    box.plain = m.plain;
    part(box, "plain-offer").hidden = m.taken_out.length === 0;
    part(box, "plain-hint").textContent = m.plain_hint;
    part(box, "summary").textContent = m.summary;
  }

  function renderAll(answer) {
    if (!byLanguage) {
      render(boxes[0], answer);
      return;
    }
    boxes.forEach(function (box) {
      var m = answer.versions[box.getAttribute("data-version")];
      if (m) { render(box, m); } else { clear(box); }
    });
    // The totals and what readers of a language with no version get, in the server's words.
    var totals = document.getElementById("totals");
    totals.hidden = Object.keys(answer.versions).length === 0;
    document.getElementById("totals-summary").textContent = answer.summary;
    // Escaped by the server, a language's name marked with its own lang.
    document.getElementById("totals-notes").innerHTML = answer.notes_html.map(function (note) {
      return "<li>" + note + "</li>";
    }).join("");
  }

  function payload() {
    var sent = { areas: chosenAreas(), urgent: form.querySelector("#urgent").checked };
    if (byLanguage) {
      sent.versions = {};
      boxes.forEach(function (box) { sent.versions[box.getAttribute("data-version")] = part(box, "text").value; });
    } else {
      sent.text = part(boxes[0], "text").value;
    }
    return sent;
  }

  function measure() {
    var mine = ++asked;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(payload())
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && mine === asked) { renderAll(answer); }
    }).catch(function () { /* the preview step still shows every figure */ });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(measure, 120);
  }

  boxes.forEach(function (box) {
    part(box, "text").addEventListener("input", soon);
    part(box, "plain").addEventListener("click", function () {
      part(box, "text").value = box.plain || "";
      part(box, "text").focus();
      measure();
    });
    part(box, "counter").hidden = false;
  });
  form.addEventListener("change", soon);
  measure();
})();
