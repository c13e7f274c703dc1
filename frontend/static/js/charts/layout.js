// Shared Plotly layout: a fixed `uirevision` keeps the user's zoom/pan across Plotly.react updates.
export const COLORS = {
  blue: "#1a73e8", green: "#188038", orange: "#e8710a", red: "#c5221f", purple: "#9334e6", grey: "#80868b",
};

export function baseLayout(yTitle, xTitle = "step", extra = {}) {
  return {
    uirevision: "keep",
    margin: { l: 52, r: 16, t: 8, b: 40 },
    xaxis: { title: { text: xTitle }, zeroline: false, gridcolor: "#eef0f2" },
    yaxis: { title: { text: yTitle }, zeroline: false, gridcolor: "#eef0f2", tickformat: ".3~f", automargin: true },
    legend: { orientation: "h", y: 1.12, x: 0 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, sans-serif", size: 12, color: "#3c4043" },
    hovermode: "x unified",
    ...extra,
  };
}

export const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
