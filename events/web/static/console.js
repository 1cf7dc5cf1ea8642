// Live counts on an event's console page: refreshed every 5 seconds while the page is visible.
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
