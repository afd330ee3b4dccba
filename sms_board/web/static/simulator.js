// Keep the newest message in view.
(function () {
  var thread = document.getElementById("thread");
  if (thread) { thread.scrollTop = thread.scrollHeight; }
})();
