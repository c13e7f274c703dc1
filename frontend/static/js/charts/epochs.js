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

// Tick formats: Plotly picks ticks 1, 2 or 5 x 10^k apart, as close together as the range needs (a child
// network at chance: 0.1000, 0.1005, ...). A fixed precision such as ".2~f" printed every one of them as "0.1";
// "~%" and "~f" keep six decimals and trim the zeros, so distinct ticks read distinctly at any range or zoom.
// The loss axis overlays the accuracy one: Plotly then defaults it to tickmode "sync" (ticks on the accuracy
// grid, at values such as 2.302233), so it is set back to "auto" for round loss values.
export const EPOCH_AXES = {
  yaxis: { title: { text: "accuracy" }, gridcolor: "#eef0f2", zeroline: false, tickformat: "~%", hoverformat: ".2%",
    automargin: true },
  yaxis2: { title: { text: "loss" }, overlaying: "y", side: "right", showgrid: false, zeroline: false,
    tickmode: "auto", tickformat: "~f", hoverformat: ".4f", automargin: true },
};

// Language models (issue 9): perplexity per epoch instead of accuracy. Train perplexity is exp(mean
// training loss) (the loss is the mean cross-entropy per token, in nats); validation perplexity comes from
// the event (`valid_perplexity`) or the history row. A log axis: perplexities fall from ~vocab size to tens.
/** @param {Array<{epoch:number, loss:number|null, perplexity?:number|null, valid_perplexity?:number|null}>} epochs */
export function perplexityTraces(epochs) {
  const x = epochs.map((e) => e.epoch);
  const train = epochs.map((e) => (isNum(e.perplexity) ? e.perplexity : isNum(e.loss) ? Math.exp(e.loss) : null));
  const traces = [{ type: "scatter", mode: "lines+markers", name: "train perplexity", x, y: train,
    line: { color: COLORS.blue } }];
  if (epochs.some((e) => isNum(e.valid_perplexity))) {
    traces.push({ type: "scatter", mode: "lines+markers", name: "valid perplexity", x,
      y: epochs.map((e) => (isNum(e.valid_perplexity) ? e.valid_perplexity : null)), line: { color: COLORS.green } });
  }
  if (epochs.some((e) => isNum(e.baseline_perplexity))) { // search phase: what word frequencies alone score
    traces.push({ type: "scatter", mode: "lines", name: "unigram baseline", x,
      y: epochs.map((e) => (isNum(e.baseline_perplexity) ? e.baseline_perplexity : null)),
      line: { color: "#8a94a6", dash: "dash" } });
  }
  return traces;
}

// The search phase's warning (child_train.at_noise_level, decided in searchcore.training.lm_verdict):
// the shared weights know only word frequencies, so the rewards the controller learns from are noise.
export function noiseText(epochs) {
  const last = [...epochs].reverse().find((e) => typeof e.at_noise_level === "boolean");
  if (!last || !last.at_noise_level) return "";
  return `Rewards at noise level: after epoch ${last.epoch} the shared weights score validation perplexity `
    + `${last.valid_perplexity.toFixed(1)}, not below 0.9 × the unigram baseline ${last.baseline_perplexity.toFixed(1)} `
    + "(word frequencies alone), so the controller is learning from noise. A longer search budget, or the "
    + "plan's smallest budget, lets the shared weights learn first.";
}

export const PERPLEXITY_AXES = {
  yaxis: { title: { text: "perplexity" }, type: "log", gridcolor: "#eef0f2", zeroline: false, tickformat: "~f",
    hoverformat: ".1f", automargin: true },
};
