// Loss and accuracy per epoch: used for the child (search) and the final-training curves (pure).
import { COLORS } from "./layout.js";

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** @param {Array<{epoch:number, loss:number, accuracy:number, valid_accuracy?:number|null}>} epochs */
export function epochTraces(epochs) {
  const x = epochs.map((e) => e.epoch);
  const traces = [
    { type: "scatter", mode: "lines+markers", name: "train accuracy", x, y: epochs.map((e) => e.accuracy),
      line: { color: COLORS.blue } },
  ];
  if (epochs.some((e) => isNum(e.valid_accuracy))) {
    traces.push({ type: "scatter", mode: "lines+markers", name: "valid accuracy", x,
      y: epochs.map((e) => (isNum(e.valid_accuracy) ? e.valid_accuracy : null)), line: { color: COLORS.green } });
  }
  traces.push({ type: "scatter", mode: "lines", name: "loss", x, y: epochs.map((e) => e.loss), yaxis: "y2",
    line: { color: COLORS.red, dash: "dot" } });
  return traces;
}

export const EPOCH_AXES = {
  yaxis: { title: { text: "accuracy" }, gridcolor: "#eef0f2", zeroline: false, tickformat: ".2~f", automargin: true },
  yaxis2: { title: { text: "loss" }, overlaying: "y", side: "right", showgrid: false, zeroline: false,
    tickformat: ".3~f", automargin: true },
};
