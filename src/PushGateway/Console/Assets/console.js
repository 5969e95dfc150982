// Live updates without inline script: a section with class "live" is fetched again every second (same URL, same
// session) and replaced, until the server renders it without that class (the message is final). A class rather than a
// data- attribute: Razor always writes data- attributes, even for a null value.
(function () {
  "use strict";
  function refresh(section) {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(section.id);
        if (!fresh) { return; }
        section.replaceWith(fresh);
        if (fresh.classList.contains("live")) { schedule(fresh); }
      })
      .catch(function () { schedule(section); });
  }
  function schedule(section) { window.setTimeout(function () { refresh(section); }, 1000); }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".live").forEach(schedule);
  });
})();
