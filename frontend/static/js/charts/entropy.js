// Policy entropy per controller step (pure).
import { COLORS } from "./layout.js";

export function entropyTraces(steps) {
  return [{ type: "scatter", mode: "lines", name: "entropy", x: steps.map((s) => s.step),
    y: steps.map((s) => s.entropy), line: { color: COLORS.purple, width: 2 } }];
}
