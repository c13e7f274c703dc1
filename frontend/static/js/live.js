// Live page: owns the websocket (replay with ?after=<seq>, de-duplication, back-off reconnect),
// and redraws charts, progress, cells and the log at most a few times a second. When a resumed
// search re-sends events the page has under other times, it starts over from a full replay.
import {
  backoffDelay, childRows, collapseText, createStore, ingest, isRewound, progressView, resetStore, searchStatus, socketQuery,
  takeDirty,
} from "./live_store.js";
import { rewardTraces } from "./charts/reward.js";
import { entropyTraces } from "./charts/entropy.js";
import { EPOCH_AXES, epochTraces, noiseText, PERPLEXITY_AXES, perplexityTraces } from "./charts/epochs.js";
import { baseLayout, CONFIG } from "./charts/layout.js";
import { CellView } from "./cells.js";

const MIN_FRAME_MS = 200;
const root = document.getElementById("live");
const store = createStore();
window.nasLive = store; // read by the end-to-end test and handy in the console

const cells = {
  sampled: new CellView(document.getElementById("sampled-cells"), root.dataset.svgUrl, "sampled"),
  best: new CellView(document.getElementById("best-cells"), root.dataset.svgUrl, "best"),
};

// A language model's curves are perplexities (data-task-kind from the search's space), an image model's accuracies.
const language = root.dataset.taskKind === "language";
const epochCurves = language ? perplexityTraces : epochTraces;
const epochAxes = language ? PERPLEXITY_AXES : EPOCH_AXES;

const charts = {
  controller: [
    ["chart-reward", () => rewardTraces(store.steps), baseLayout("reward")],
    ["chart-entropy", () => entropyTraces(store.steps),
      baseLayout("entropy (nats)", "step", { yaxis: { title: { text: "entropy (nats)" }, automargin: true, gridcolor: "#eef0f2" } })],
  ],
  child: [["chart-child", () => epochCurves(store.childEpochs), baseLayout("", "epoch", epochAxes)]],
  final: [["chart-final", () => epochCurves(store.finalEpochs), baseLayout("", "epoch", epochAxes)]],
};

let socket = null;
let attempt = 0;
let frameQueued = false;
let lastFrame = 0;

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}${root.dataset.wsPath}${socketQuery(store)}`);
  socket = ws;
  ws.onopen = () => { attempt = 0; setConnection("live"); };
  ws.onmessage = (msg) => {
    if (ws !== socket) return; // a socket given up by startOver
    let event;
    try { event = JSON.parse(msg.data); } catch { return; }
    if (isRewound(store, event)) { startOver(); return; }
    if (ingest(store, event)) scheduleRender();
  };
  ws.onclose = (closed) => {
    if (ws !== socket) return;
    if (store.finished) { setConnection("closed"); return; }
    // 4403/4404: signed out or not this user's search; retrying cannot help.
    if (closed.code === 4403 || closed.code === 4404) { setConnection("not available: reload the page"); return; }
    // 1013: the server's message bus (Redis) is down for now; anything else: the network dropped.
    const why = closed.code === 1013 ? "server busy, " : "";
    const delay = backoffDelay(attempt++, Math.random());
    setConnection(`${why}reconnecting in ${(delay / 1000).toFixed(1)} s`);
    setTimeout(connect, delay);
  };
}

/** The search was resumed from a checkpoint: forget everything and replay from the first event. */
function startOver() {
  const old = socket;
  socket = null;
  old.close();
  resetStore(store);
  cells.sampled.reset();
  cells.best.reset();
  setConnection("resumed: reloading");
  scheduleRender();
  connect();
}

const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);

function setConnection(text) {
  document.getElementById("connection").textContent = text;
}

function scheduleRender() {
  if (frameQueued) return;
  frameQueued = true;
  const wait = Math.max(0, MIN_FRAME_MS - (performance.now() - lastFrame));
  setTimeout(() => requestAnimationFrame(render), wait);
}

function render() {
  frameQueued = false;
  lastFrame = performance.now();
  const dirty = takeDirty(store);
  for (const part of ["controller", "child", "final"]) {
    if (dirty.has(part)) drawCharts(part);
  }
  if (dirty.has("child")) drawNoise();
  if (dirty.has("progress") || dirty.has("status") || dirty.has("controller")) drawProgress();
  if (dirty.has("status") && !store.finished) drawStatus();
  if (dirty.has("log")) drawLog();
  if (dirty.has("sampled") && store.sampled) cells.sampled.show(store.sampled);
  if (dirty.has("best") && store.best) { cells.best.show(store.best); drawBest(); }
  if (dirty.has("finished")) drawFinished();
  if (dirty.has("plan")) drawPlan();
  if (dirty.has("children")) drawChildren();
}

// Fanned-out children (scratch evaluator on `children` workers): state, worker and progress of each.
function drawChildren() {
  const rows = childRows(store);
  document.getElementById("children-card").hidden = rows.length === 0;
  document.getElementById("children-rows").replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    tr.className = `child-${r.state}`;
    if (r.message) tr.title = r.message;
    for (const text of [r.batch, r.child, r.state, r.worker, `${r.progress} %`, r.attempt, r.reward]) {
      const td = document.createElement("td");
      td.textContent = String(text);
      tr.append(td);
    }
    return tr;
  }));
}

// A language search whose shared weights are still at the unigram level: its rewards are noise.
function drawNoise() {
  const flag = document.getElementById("noise-flag");
  if (!flag) return;
  flag.textContent = noiseText(store.childEpochs);
  flag.hidden = !flag.textContent;
}

// The plan of each phase (searchcore.planning): what the budget buys; a warning when it is too small.
function drawPlan() {
  const note = document.getElementById("plan-note");
  const plans = ["search", "final"].map((phase) => store.plans[phase]).filter(Boolean);
  note.hidden = plans.length === 0;
  note.textContent = plans.map((p) => p.message).join(" ");
  note.className = plans.some((p) => !p.meaningful) ? "alert warn small" : "small muted";
}

const series = { controller: () => store.steps, child: () => store.childEpochs, final: () => store.finalEpochs };
const placeholders = new Map(Object.values(charts).flat().map(([id]) => [id, document.getElementById(id).innerHTML]));

function drawCharts(part) {
  const empty = series[part]().length === 0;
  for (const [id, build, layout] of charts[part]) {
    const el = document.getElementById(id);
    if (empty) { // nothing (yet, or again after startOver): the "waiting" text, not empty axes
      if (el.data) { window.Plotly.purge(el); el.innerHTML = placeholders.get(id); }
      continue;
    }
    if (!el.data) el.replaceChildren(); // drop the "waiting" placeholder before the first plot
    window.Plotly.react(el, build(), layout, CONFIG);
  }
}

function drawStatus() {
  const status = searchStatus(store, root.dataset.status);
  const badge = document.getElementById("status-badge");
  badge.className = `badge ${status}`;
  badge.textContent = capitalise(status);
  const queued = document.getElementById("queued-note");
  if (queued && status !== "queued") queued.hidden = true;
}

function drawProgress() {
  if (!store.progress && !store.status) return;
  const view = progressView(store);
  if (store.progress) {
    document.getElementById("progress-bar").style.width = `${view.pct}%`;
    document.getElementById("progress-pct").textContent = `${view.pct} %`;
    document.getElementById("progress-eta").textContent = store.finished ? "" : view.eta;
  }
  if (view.phase && !store.finished) document.getElementById("progress-phase").textContent = view.phase;
  document.getElementById("stat-epoch").textContent = view.epoch;
  document.getElementById("stat-epoch-label").textContent = view.epochLabel;
  document.getElementById("stat-archs").textContent = view.archs;
  document.getElementById("stat-elapsed").textContent = view.elapsed;
}

function drawLog() {
  const box = document.getElementById("log");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 20;
  box.replaceChildren(...store.logs.map((line) => {
    const div = document.createElement("div");
    div.className = line.level;
    div.textContent = `${new Date(line.time * 1000).toLocaleTimeString()}  ${line.message}`;
    return div;
  }));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function drawBest() {
  const reward = store.best.reward;
  document.getElementById("stat-best").textContent = typeof reward === "number" ? reward.toFixed(3) : "—";
  const collapse = document.getElementById("collapse-badge");
  collapse.textContent = collapseText(store.best);
  collapse.hidden = collapse.textContent === "";
}

function drawFinished() {
  const f = store.finished;
  const badge = document.getElementById("status-badge");
  badge.className = `badge ${f.status}`;
  badge.textContent = capitalise(f.status);
  const banner = document.getElementById("finished-banner");
  banner.hidden = false;
  banner.className = `alert ${f.status === "succeeded" ? "success" : f.status === "failed" ? "error" : "warn"}`;
  banner.querySelector(".msg").textContent = f.message || `Search ${f.status}.`;
  banner.querySelector("a").hidden = f.status === "cancelled"; // a failed run's page says why (e.g. at chance)
  const cancel = document.getElementById("cancel-form");
  if (cancel) cancel.hidden = true;
  document.getElementById("progress-phase").textContent = capitalise(f.status);
  if (f.status === "succeeded") {
    document.getElementById("progress-bar").style.width = "100%";
    document.getElementById("progress-pct").textContent = "100 %";
  }
  document.getElementById("progress-eta").textContent = "";
}

connect();
