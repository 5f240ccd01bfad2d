// Render every Vega-Lite spec the server embedded next to its chart container.
(function () {
  function render() {
    var spec = document.getElementById("fairness-spec");
    var target = document.getElementById("fairness-chart");
    if (!spec || !target || typeof vegaEmbed !== "function") return;
    vegaEmbed(target, JSON.parse(spec.textContent), { actions: false, renderer: "svg" })
      .catch(function (err) { target.textContent = String(err); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
