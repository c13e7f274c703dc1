// Accuracy against latency of the sampled architectures, with the Pareto front (data -> traces, pure).
import { baseLayout, COLORS } from "./layout.js";

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** The points no other point beats on both counts (higher accuracy, lower latency), ordered by latency:
 * each one more accurate than every faster one. Equal points appear once; non-finite ones are ignored.
 * @param {Array<{accuracy:number, latency_ms:number}>} points */
export function paretoFront(points) {
  const usable = points.filter((p) => p && isNum(p.accuracy) && isNum(p.latency_ms));
  usable.sort((a, b) => a.latency_ms - b.latency_ms || b.accuracy - a.accuracy);
  const front = [];
  for (const p of usable) {
    if (!front.length || p.accuracy > front[front.length - 1].accuracy) front.push(p);
  }
  return front;
}

const hover = (p) => `accuracy ${p.accuracy.toFixed(4)}<br>${p.latency_ms.toFixed(3)} ms per image`
  + (p.samples > 1 ? `<br>mean of ${p.samples} scores` : "");

/** Traces: every sampled architecture, the front as a staircase line (its points' architecture JSON in
 * `customdata`, for training a point later), and the derived architecture.
 * @param {{points: Array, derived?: object|null}} data */
export function paretoTraces(data) {
  const points = (data.points || []).filter((p) => isNum(p.accuracy) && isNum(p.latency_ms));
  const front = paretoFront(points);
  const traces = [
    { type: "scatter", mode: "markers", name: "sampled", x: points.map((p) => p.latency_ms),
      y: points.map((p) => p.accuracy), text: points.map(hover), hoverinfo: "text",
      marker: { color: COLORS.blue, size: 6, opacity: 0.55 } },
    { type: "scatter", mode: "lines+markers", name: "Pareto front", x: front.map((p) => p.latency_ms),
      y: front.map((p) => p.accuracy), text: front.map(hover), hoverinfo: "text",
      customdata: front.map((p) => p.architecture), line: { color: COLORS.orange, width: 2, shape: "hv" },
      marker: { color: COLORS.orange, size: 8 } },
  ];
  const d = data.derived;
  if (d && isNum(d.accuracy) && isNum(d.latency_ms)) {
    traces.push({ type: "scatter", mode: "markers", name: "derived (whole validation split)", x: [d.latency_ms],
      y: [d.accuracy], text: [hover(d)], hoverinfo: "text", customdata: [d.architecture],
      marker: { color: COLORS.red, size: 14, symbol: "star", line: { color: "#fff", width: 1 } } });
  }
  return traces;
}

/** Layout with the latency target as a dashed vertical line. */
export function paretoLayout(targetMs) {
  const layout = baseLayout("accuracy", "latency (ms per image)", { hovermode: "closest" });
  if (isNum(targetMs)) {
    layout.shapes = [{ type: "line", xref: "x", yref: "paper", x0: targetMs, x1: targetMs, y0: 0, y1: 1,
      line: { color: COLORS.grey, dash: "dash", width: 1 } }];
    layout.annotations = [{ xref: "x", yref: "paper", x: targetMs, y: 1, text: "target", showarrow: false,
      yanchor: "bottom", font: { size: 11, color: COLORS.grey } }];
  }
  return layout;
}
