// Breakwater console: live parts of a page, countdowns, confirmations and opening event rows.
// Served by the console itself; the page's Content-Security-Policy allows no other script.
"use strict";

(function () {
  // Names the server hands over on <body> (breakwater/console/app.py defines them).
  const settings = document.body.dataset;
  const opened = new Set();
  const shown = new WeakMap();
  // The server's clock (the breaker record's times are its times) minus this browser's.
  let clockOffset = Number(settings.nowMs) - Date.now();

  function countdowns() {
    const now = Date.now() + clockOffset;
    for (const element of document.querySelectorAll("[data-until-ms]")) {
      const left = (Number(element.dataset.untilMs) - now) / 1000;
      element.textContent = left > 0 ? "(in " + left.toFixed(1) + " s)" : "(passed)";
    }
  }

  function reopen(root) {
    for (const id of opened) {
      const row = document.getElementById(id);
      const button = root.querySelector('[data-toggle="' + id + '"]');
      if (row && button) {
        row.hidden = false;
        button.setAttribute("aria-expanded", "true");
      }
    }
  }

  function fragmentUrl() {
    const url = new URL(window.location.href);
    url.searchParams.delete(settings.flashParameter);
    url.searchParams.set(settings.fragmentParameter, "1");
    return url.toString();
  }

  function refresh(element, delay) {
    window.setTimeout(function () {
      fetch(fragmentUrl(), { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          const now = Number(response.headers.get(settings.nowHeader));
          if (now) {
            clockOffset = now - Date.now();
          }
          const next = Number(response.headers.get(settings.refreshHeader) || 0);
          return response.text().then(function (html) {
            // The fragment is the server's own escaped HTML. Compare it as this browser serialises it
            // with what was last shown (before any script touched it), and replace only what changed.
            const probe = document.createElement("template"); // inert: nothing in it loads or runs
            probe.innerHTML = html;
            element.classList.remove("stale");
            if (probe.innerHTML !== shown.get(element)) {
              shown.set(element, probe.innerHTML);
              element.innerHTML = html;
              reopen(element);
              countdowns();
            }
            if (next > 0) {
              refresh(element, next);
            }
          });
        })
        .catch(function () {
          element.classList.add("stale");
          refresh(element, delay * 2);
        });
    }, delay);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-toggle]");
    if (!button) {
      return;
    }
    const id = button.dataset.toggle;
    const row = document.getElementById(id);
    if (!row) {
      return;
    }
    row.hidden = !row.hidden;
    button.setAttribute("aria-expanded", String(!row.hidden));
    if (row.hidden) {
      opened.delete(id);
    } else {
      opened.add(id);
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    const question = form.dataset.confirm;
    if (!question) {
      return;
    }
    if (!window.confirm(question)) {
      event.preventDefault();
      return;
    }
    const confirmed = form.querySelector("input[data-confirmed]");
    if (confirmed) {
      confirmed.value = "yes";
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) {
      event.target.form.submit();
    }
  });

  const live = document.querySelector("[data-live]");
  const every = Number(settings.refreshMs || 0);
  if (live && every > 0) {
    shown.set(live, live.innerHTML);
    refresh(live, every);
  }
  countdowns();
  window.setInterval(countdowns, 250);
})();
