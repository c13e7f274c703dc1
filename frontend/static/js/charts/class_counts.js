// Images per class, stacked by split when the split counts are known (pure).
import { COLORS } from "./layout.js";

const SPLIT_COLORS = { train: COLORS.blue, valid: COLORS.green, validation: COLORS.green, test: COLORS.orange };

export function classCountTraces(report) {
  const names = report.class_names || Object.keys(report.counts || {});
  const splits = report.split_counts || {};
  const splitNames = Object.keys(splits);
  if (!splitNames.length) {
    return [{ type: "bar", name: "images", x: names, y: names.map((n) => (report.counts || {})[n] || 0),
      marker: { color: COLORS.blue } }];
  }
  return splitNames.map((split) => ({
    type: "bar", name: split, x: names, y: names.map((n) => splits[split][n] || 0),
    marker: { color: SPLIT_COLORS[split] || COLORS.grey },
  }));
}
