// The little the server cannot do: keep the live log panel short and scrolled to the end.
(function () {
  var KEPT_LINES = 500;
  document.addEventListener("htmx:sseMessage", function (event) {
    var log = event.target;
    if (!log || log.id !== "log-lines") return;
    while (log.childElementCount > KEPT_LINES) log.removeChild(log.firstElementChild);
    log.scrollTop = log.scrollHeight;
  });
})();
