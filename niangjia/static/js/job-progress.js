// niangjia: live progress of a background job (templates/jobs/_progress.html).
// Polls the element's data-progress-url every second and updates the bar, the figures and the
// state. When the job ends: data-redirect-url (if it succeeded) is opened, or the page is
// reloaded (data-reload="true", the default) so that it shows the outcome. Without this
// script the page still shows the figures of its rendering and a link to refresh.
(function () {
  "use strict";
  var FINISHED = { succeeded: true, failed: true, cancelled: true };
  var INTERVAL = 1000;
  // A form sent from the page (the cancel button) is already taking the browser to the page
  // that answers it: the end of the job must not reload over that answer (and its message).
  var submitted = false;
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) { submitted = true; }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { submitted = false; } // back to this page from the browser's cache
  });

  function setText(root, selector, text) {
    var el = root.querySelector(selector);
    if (el && el.textContent !== text) { el.textContent = text || ""; }
  }

  function show(root, selector, visible) {
    var el = root.querySelector(selector);
    if (el) { el.hidden = !visible; }
  }

  function render(root, p) {
    var bar = root.querySelector("[data-job-bar]");
    if (bar) {
      if (p.percent === null || p.percent === undefined) {
        bar.removeAttribute("value"); // indeterminate while the total is unknown
      } else {
        bar.value = p.percent;
      }
      bar.textContent = p.percent_text || "";
    }
    var badge = root.querySelector("[data-job-state]");
    if (badge) {
      badge.textContent = p.state_display;
      badge.className = "badge job-state job-state-" + p.state;
    }
    setText(root, "[data-job-percent]", p.percent_text);
    setText(root, "[data-job-count]", p.count_text);
    setText(root, "[data-job-rate]", p.rate_text);
    setText(root, "[data-job-eta]", p.eta_text);
    setText(root, "[data-job-note]", p.note);
    setText(root, "[data-job-error]", p.error);
    show(root, "[data-job-error]", !!p.error);
    show(root, "[data-job-cancelling]", p.cancel_requested && !FINISHED[p.state]);
    root.setAttribute("data-state", p.state);
  }

  function finish(root, p) {
    if (submitted) { return; }
    var target = root.getAttribute("data-redirect-url");
    if (target && p.state === "succeeded") {
      window.location.assign(target);
    } else if (root.getAttribute("data-reload") !== "false") {
      window.location.reload();
    }
  }

  function watch(root) {
    var url = root.getAttribute("data-progress-url");
    if (!url || FINISHED[root.getAttribute("data-state")]) { return; }
    show(root, "[data-job-refresh]", false);
    var failures = 0;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (p) {
          failures = 0;
          render(root, p);
          if (FINISHED[p.state]) {
            finish(root, p);
          } else {
            window.setTimeout(poll, INTERVAL);
          }
        })
        .catch(function () {
          // A restart of the server or a lost connection: keep trying, more slowly, and
          // offer the refresh link meanwhile.
          failures += 1;
          show(root, "[data-job-refresh]", true);
          window.setTimeout(poll, Math.min(INTERVAL * (failures + 1), 10000));
        });
    }
    window.setTimeout(poll, INTERVAL);
  }

  function start() {
    var roots = document.querySelectorAll("[data-job-progress]");
    for (var i = 0; i < roots.length; i += 1) {
      if (!roots[i].hasAttribute("data-job-watched")) {
        roots[i].setAttribute("data-job-watched", "");
        watch(roots[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
