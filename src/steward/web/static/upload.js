// Upload forms (form[enctype=multipart/form-data] inside #version-new-card): refuse a file
// over the server's limit before sending a byte, then send with XMLHttpRequest to show the
// upload's progress. The server decides everything again: without this script the form
// posts as usual. A refusal's page replaces the form card; success follows the redirect.
(function () {
  function bind(card) {
    var form = card.querySelector("form[enctype='multipart/form-data']");
    var limitNote = card.querySelector("[data-limit]");
    if (!form || !limitNote) return;
    var limit = parseInt(limitNote.getAttribute("data-limit"), 10);
    var check = card.querySelector("#upload-check");
    var bar = card.querySelector("#upload-progress");
    var percent = card.querySelector("#upload-percent");
    var progress = card.querySelector(".upload-progress");
    function say(text) {
      check.textContent = text;
      check.hidden = false;
    }
    form.addEventListener("submit", function (event) {
      var inputs = form.querySelectorAll("input[type=file]");
      for (var i = 0; i < inputs.length; i++) {
        var files = inputs[i].files || [];
        for (var j = 0; j < files.length; j++) {
          if (files[j].size > limit) {
            event.preventDefault();
            inputs[i].setAttribute("aria-invalid", "true");
            say(card.querySelector("#upload-too-large-text").textContent.replace("{file}", files[j].name));
            inputs[i].focus();
            return;
          }
        }
      }
      if (!window.XMLHttpRequest || !window.FormData) return;
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var done = Math.round((100 * e.loaded) / e.total);
        bar.value = done;
        percent.textContent = done + "%";
      });
      xhr.addEventListener("load", function () {
        var landed = xhr.responseURL || "";
        if (xhr.status < 400 && landed.indexOf(form.getAttribute("action")) === -1) {
          window.location.assign(landed);  // the redirect the server answered with
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var fresh = doc.getElementById(card.id);
        if (!fresh) {
          // a refusal page (the wrong role, a signed-out session): show it as it came
          document.replaceChild(document.adoptNode(doc.documentElement), document.documentElement);
          return;
        }
        card.replaceWith(fresh);
        bind(fresh);
        var alert = fresh.querySelector("[role=alert]:not([hidden])");
        if (alert) alert.scrollIntoView();
      });
      xhr.addEventListener("error", function () {
        progress.hidden = true;
        say(card.querySelector("#upload-failed-text").textContent);
      });
      check.hidden = true;
      progress.hidden = false;
      xhr.send(new FormData(form));
    });
  }
  function start() {
    var card = document.getElementById("version-new-card");
    if (card) bind(card);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
