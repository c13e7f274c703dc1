// Dataset page: poll while validating, then draw the images-per-class chart.
import { classCountTraces } from "./charts/class_counts.js";
import { baseLayout, CONFIG } from "./charts/layout.js";

const validating = document.getElementById("validating");
if (validating) {
  const poll = async () => {
    try {
      const res = await fetch(validating.dataset.statusUrl, { headers: { Accept: "application/json" } });
      const body = await res.json();
      if (body.status !== "validating") { window.location.reload(); return; }
    } catch { /* transient: try again */ }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 800);
}

const data = document.getElementById("report-data");
const chart = document.getElementById("class-chart");
if (data && chart && window.Plotly) {
  const report = JSON.parse(data.textContent);
  const layout = baseLayout("images", "", { barmode: "stack", hovermode: "closest", margin: { l: 52, r: 16, t: 8, b: 90 } });
  window.Plotly.react(chart, classCountTraces(report), layout, CONFIG);
}
