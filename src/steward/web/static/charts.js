// Render every Vega-Lite spec the server embedded next to its chart container:
// <script type="application/json" data-chart-for="ID"> (the fairness chart keeps its ids).
(function () {
  function draw(spec, target) {
    if (!spec || !target || typeof vegaEmbed !== "function") return;
    vegaEmbed(target, JSON.parse(spec.textContent), { actions: false, renderer: "svg" })
      .catch(function (err) { target.textContent = String(err); });
  }
  function render() {
    draw(document.getElementById("fairness-spec"), document.getElementById("fairness-chart"));
    document.querySelectorAll("script[data-chart-for]").forEach(function (spec) {
      draw(spec, document.getElementById(spec.getAttribute("data-chart-for")));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
