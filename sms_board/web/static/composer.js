// The broadcast composer's live counter. The page works without it: the preview step
// shows the same figures, computed by the same code on the server.
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form || !window.fetch) { return; }
  var text = form.querySelector("#text");
  var counter = document.getElementById("counter");
  var token = form.querySelector("input[name=csrf_token]").value;
  var url = form.getAttribute("data-measure");
  var timer = null;
  var asked = 0;
  var plain = "";

  function chosenAreas() {
    return Array.prototype.map.call(form.querySelectorAll("input[name=area]:checked"), function (box) { return box.value; });
  }

  function show(name, value) {
    var node = counter.querySelector("[data-figure=" + name + "]");
    if (node) { node.textContent = value; }
  }

  function marked(text, letter) {
    var mark = document.createElement("mark");
    mark.className = letter ? "ucs2 letter" : "ucs2";
    mark.textContent = text;
    return mark;
  }

  function render(m) {
    show("characters", m.characters);
    show("encoding", m.encoding);
    show("segments", m.segments);
    show("recipients", m.recipients);
    show("cost_text", m.cost_text);
    // The words come from the server (composer.save_hint), as on the preview page.
    var save = document.getElementById("save-hint");
    save.textContent = m.save_hint || "";
    save.hidden = !m.save_hint;
    document.getElementById("too-long").hidden = !m.too_long;
    var ucs2 = document.getElementById("ucs2");
    ucs2.hidden = m.forcing.length === 0;
    // Each character and what becomes of it: a letter is kept as written, never offered for a fix.
    var list = document.getElementById("ucs2-list");
    list.textContent = "";
    m.why.forEach(function (pair) {
      var item = document.createElement("li");
      item.appendChild(marked(pair[0], m.taken_out.indexOf(pair[0]) < 0));
      item.appendChild(document.createTextNode(" " + pair[1]));
      list.appendChild(item);
    });
    var highlight = document.getElementById("highlight");
    highlight.textContent = "";
    m.runs.forEach(function (run) {
      highlight.appendChild(run[1] ? marked(run[0], run[2]) : document.createTextNode(run[0]));
    });
    plain = m.plain;
    document.getElementById("plain-offer").hidden = m.taken_out.length === 0;
    document.getElementById("plain-hint").textContent = m.taken_out.length && m.plain_segments < m.segments ?
      "(" + m.plain_segments + " text" + (m.plain_segments === 1 ? "" : "s") + " each instead of " + m.segments + ")" : "";
    document.getElementById("counter-summary").textContent =
      m.segments + " text" + (m.segments === 1 ? "" : "s") + " each, " + m.encoding + ", " + m.recipients + " recipients, " + m.cost_text;
  }

  function measure() {
    var mine = ++asked;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ text: text.value, areas: chosenAreas(), urgent: form.querySelector("#urgent").checked })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (m) {
      if (m && mine === asked) { render(m); }
    }).catch(function () { /* the preview step still shows every figure */ });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(measure, 120);
  }

  text.addEventListener("input", soon);
  form.addEventListener("change", soon);
  document.getElementById("plain").addEventListener("click", function () {
    text.value = plain;
    text.focus();
    measure();
  });
  counter.hidden = false;
  measure();
})();
