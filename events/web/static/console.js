// The console: focus goes to what a person must read after an action (the first field with
// an error, else the message), and live counts on an event's page refresh every 5 seconds.
(function () {
  var invalid = document.querySelector("[aria-invalid=true]");
  var message = document.getElementById("flash") || document.getElementById("confirm-move");
  if (invalid) invalid.focus();
  else if (message) message.focus();
})();
(function () {
  var box = document.querySelector("[data-stats]");
  if (!box) return;
  function refresh() {
    if (document.hidden) return;
    fetch(box.dataset.stats, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (counts) {
        if (!counts) return;
        box.querySelectorAll("[data-count]").forEach(function (el) {
          var value = counts[el.dataset.count];
          if (value !== undefined) el.textContent = value;
        });
      })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
