// A job's page follows the job: poll its status (same origin, the session cookie) and move
// the progress bar; reload once it has finished so the result or error is rendered by the
// server. A file of its own, so the Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var status = document.getElementById("job-status");
  var stage = document.getElementById("job-stage");
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (!job) {
          window.setTimeout(poll, 5000);
          return;
        }
        bar.value = job.progress;
        bar.textContent = percent.textContent = Math.round(job.progress * 100) + "%";
        status.textContent = job.label;
        stage.textContent = job.stage;
        if (job.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();
