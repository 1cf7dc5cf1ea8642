// Forms marked data-once are sent once: the button is disabled while the page is leaving,
// so a double tap does not register twice (the server also replays a repeated form id).
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); b.classList.add("busy"); });
  });
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    delete form.dataset.sent;
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.removeAttribute("aria-disabled"); b.classList.remove("busy"); });
  });
});
// A form that came back with errors: move focus to the summary at its top, so a person on a
// long page (or using a screen reader) starts from what needs fixing, not 1,000 px below.
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); summary.scrollIntoView({block: "start"}); }
})();
