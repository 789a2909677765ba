// Notebook figures are drawn while the page is still being laid out; once everything has
// loaded, fit each one to the width of its column (and again whenever the window changes).
(function () {
  function fit() {
    if (!window.Plotly) return;
    document.querySelectorAll(".js-plotly-plot").forEach(function (el) {
      window.Plotly.Plots.resize(el);
    });
  }
  window.addEventListener("load", fit);
  window.addEventListener("resize", fit);
})();
