// Results page: accuracy against latency with the Pareto front (searches with a latency target only).
import { paretoLayout, paretoTraces } from "./charts/pareto.js";
import { CONFIG } from "./charts/layout.js";

const holder = document.getElementById("pareto-data");
const chart = document.getElementById("chart-pareto");
const data = holder ? JSON.parse(holder.textContent) : null;
if (chart && data && data.points && data.points.length) {
  window.Plotly.react(chart, paretoTraces(data), paretoLayout(data.target_ms), CONFIG);
}
