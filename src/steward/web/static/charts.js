// Render every Vega-Lite spec the server embedded next to its chart container:
// <script type="application/json" data-chart-for="ID"> (the fairness chart keeps its ids).
(function () {
  function draw(spec, target) {
    if (!spec || !target || typeof vegaEmbed !== "function") return;
    // No injected <style> elements (the CSP forbids inline styles): app.css styles the
    // tooltip, and without the actions menu the embed stylesheet is not needed.
    var options = {
      actions: false,
      renderer: "svg",
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true },
      // Vega compiles expressions with Function() unless given its interpreter, and the
      // CSP forbids eval: interpret them instead (vendor/vega-interpreter.min.js).
      ast: true,
      expr: vega.expressionInterpreter,
    };
    vegaEmbed(target, JSON.parse(spec.textContent), options)
      .catch(function (err) {
        target.textContent = String(err);
        console.error("chart " + target.id + ": " + err);  // browser tests fail on it
      });
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
