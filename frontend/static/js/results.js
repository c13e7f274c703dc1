// Results page: final-training curves and the confusion matrix.
import { confusionLayout, confusionTraces } from "./charts/confusion.js";
import { EPOCH_AXES, epochTraces, PERPLEXITY_AXES, perplexityTraces } from "./charts/epochs.js";
import { baseLayout, CONFIG } from "./charts/layout.js";

const read = (id) => JSON.parse(document.getElementById(id).textContent);
const finalEpochs = read("final-data");
const confusion = read("confusion-data");

const finalChart = document.getElementById("chart-final");
if (finalChart && finalEpochs.length) {
  const language = finalChart.dataset.taskKind === "language"; // perplexities instead of accuracies
  const traces = language ? perplexityTraces(finalEpochs) : epochTraces(finalEpochs);
  window.Plotly.react(finalChart, traces, baseLayout("", "epoch", language ? PERPLEXITY_AXES : EPOCH_AXES), CONFIG);
}
const confusionChart = document.getElementById("chart-confusion");
if (confusionChart && confusion && confusion.matrix) {
  const names = confusion.class_names || confusion.matrix.map((_, i) => String(i));
  window.Plotly.react(confusionChart, confusionTraces(confusion.matrix, names), confusionLayout(), CONFIG);
}
