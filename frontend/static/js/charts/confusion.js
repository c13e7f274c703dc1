// Confusion matrix heatmap with class names; rows = true class, columns = predicted (pure).

export function confusionTraces(matrix, classNames) {
  const rowSums = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const text = matrix.map((row, i) => row.map((v) => `${v} (${rowSums[i] ? ((100 * v) / rowSums[i]).toFixed(0) : 0}%)`));
  return [{
    type: "heatmap", x: classNames, y: classNames, z: matrix, text, texttemplate: "%{z}",
    hovertemplate: "true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
    colorscale: [[0, "#f8fbff"], [1, "#1a73e8"]], showscale: false,
  }];
}

export function confusionLayout() {
  return {
    uirevision: "keep", margin: { l: 90, r: 16, t: 8, b: 80 },
    xaxis: { title: { text: "predicted" }, side: "bottom", tickangle: -35 },
    yaxis: { title: { text: "true class" }, autorange: "reversed" },
    paper_bgcolor: "rgba(0,0,0,0)", font: { family: "system-ui, sans-serif", size: 12 },
  };
}
