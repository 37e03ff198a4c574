// Progressive enhancement for the reminder form: a live preview of the next occurrences, and only
// the fields the chosen frequency uses. Without this script the form works the same, with its own
// "Preview" button. No inline script anywhere: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function showFieldsFor(form) {
    var frequency = form.querySelector("[name=frequency]");
    if (!frequency) return;
    var chosen = frequency.value;
    form.querySelectorAll("[data-frequencies]").forEach(function (block) {
      var wanted = block.getAttribute("data-frequencies").split(" ");
      block.hidden = wanted.indexOf(chosen) === -1;
    });
    var members = form.querySelector("[data-recipients=users]");
    var choice = form.querySelector("[name=recipients_choice]:checked");
    if (members) members.hidden = !choice || choice.value !== "users";
  }

  function livePreview(form) {
    var target = document.getElementById("previews");
    if (!target) return;
    var url = form.getAttribute("data-preview-url");
    var refresh = debounce(function () {
      var body = new URLSearchParams(new FormData(form));
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      })
        .then(function (response) {
          return response.ok || response.status === 400 ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null) target.innerHTML = html; // rendered and escaped by the service
        })
        .catch(function () {});
    }, 300);
    form.addEventListener("input", refresh);
    form.addEventListener("change", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-reminder-form]").forEach(function (form) {
      showFieldsFor(form);
      form.addEventListener("change", function () {
        showFieldsFor(form);
      });
      livePreview(form);
    });
    // Focus the list of problems after a refused post, so a screen reader reads it first.
    var problems = document.getElementById("problems");
    if (problems) problems.focus();
  });
})();
