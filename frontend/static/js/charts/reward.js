// Reward per controller step with the EMA baseline (data -> traces, pure).
import { COLORS } from "./layout.js";

/** @param {Array<{step:number, reward:number, baseline:number}>} steps */
export function rewardTraces(steps) {
  const x = steps.map((s) => s.step);
  return [
    { type: "scatter", mode: "markers", name: "reward", x, y: steps.map((s) => s.reward),
      marker: { color: COLORS.blue, size: 5, opacity: 0.7 } },
    { type: "scatter", mode: "lines", name: "baseline (EMA)", x, y: steps.map((s) => s.baseline),
      line: { color: COLORS.orange, width: 2 } },
  ];
}
