// Draws one architecture's cells (normal and reduction side by side) as server-rendered SVG.
// Fetches are throttled: at most one in flight, always for the newest event, so a fast search
// sampling many architectures per second does not flood the server.

const MIN_INTERVAL_MS = 1200;

/** Query of one cell's SVG. A seq is reused when a search resumes from a checkpoint, so the event's
 * `time` goes along: the URL (and the caches keyed on it) then names one architecture only. */
export function cellSvgQuery(which, event, cell) {
  const time = typeof event.time === "number" ? `&t=${event.time}` : "";
  return `?which=${encodeURIComponent(which)}&seq=${event.seq}${time}&cell=${cell}`;
}

export class CellView {
  constructor(host, svgUrl, which) {
    this.host = host; this.svgUrl = svgUrl; this.which = which;
    this.pending = null; this.busy = false; this.timer = null; this.shownSeq = 0; this.lastFetch = 0;
  }

  /** Forget what was shown (the page replays a resumed search from the start). */
  reset() {
    this.pending = null;
    this.shownSeq = 0;
  }

  show(event) {
    if (event.seq <= this.shownSeq) return;
    this.pending = event;
    this.pump();
  }

  async pump() {
    if (this.busy || this.timer || !this.pending) return;
    const wait = this.lastFetch + MIN_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => { this.timer = null; this.pump(); }, wait);
      return;
    }
    const event = this.pending;
    this.pending = null;
    this.busy = true;
    this.lastFetch = performance.now();
    try {
      await this.draw(event);
    } catch (err) {
      console.warn("cell drawing failed", err);
    } finally {
      this.busy = false;
      this.pump();
    }
  }

  async draw(event) {
    const names = ((event.graph && event.graph.cells) || []).map((c, i) => c.name || `cell ${i}`);
    const boxes = await Promise.all(names.map(async (name, i) => {
      const res = await fetch(`${this.svgUrl}${cellSvgQuery(this.which, event, i)}`);
      const box = document.createElement("div");
      box.className = "cell-box";
      const cap = document.createElement("div");
      cap.className = "cap";
      cap.textContent = `${name} cell`;
      const svg = document.createElement("div");
      svg.className = "svg-host";
      if (res.ok) svg.innerHTML = await res.text(); else svg.textContent = "could not draw this cell";
      box.append(cap, svg);
      return box;
    }));
    if (event.seq < this.shownSeq) return;
    this.shownSeq = event.seq;
    const reward = typeof event.reward === "number" ? ` · reward ${event.reward.toFixed(3)}` : "";
    const caption = document.createElement("div");
    caption.className = "small muted";
    caption.textContent = `step ${event.step ?? "—"}${reward}`;
    const grid = document.createElement("div");
    grid.className = "cells";
    grid.append(...boxes);
    this.host.replaceChildren(caption, grid);
  }
}
