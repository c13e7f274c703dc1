// Search designer: show the chosen space's generated options, check them instantly, and keep a
// live preview (random sample SVG, space size, measured time per epoch) in sync, debounced.
import { checkDesign } from "./designer_checks.js";

// Note: `form.dataset` is the <select name="dataset">, not the data-* map (named controls shadow it).
const form = document.getElementById("designer");
const data = JSON.parse(document.getElementById("designer-data").textContent);
const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
const $ = (id) => document.getElementById(id);
let timer = null;
let generation = 0;

function activeFieldset() {
  return form.querySelector(`fieldset.space-options[data-space="${$("id_space").value}"]`);
}

function showSpace() {
  for (const fs of form.querySelectorAll("fieldset.space-options")) {
    const on = fs.dataset.space === $("id_space").value;
    fs.hidden = !on;
    fs.disabled = !on;
  }
  // the final-training knobs of the chosen space's task kind (image, language); the others are not posted
  const kind = (data.spaces[$("id_space").value] || {}).task_kind || "image";
  for (const details of form.querySelectorAll("details.final-advanced")) {
    const on = details.dataset.taskKind === kind;
    details.hidden = !on;
    details.querySelector("fieldset.final-kind").disabled = !on;
  }
}

// The chosen controller's and evaluator's option fieldsets (webapp/designer/strategy.py); the others
// are disabled so that their fields are not posted.
function showStrategy() {
  for (const fs of form.querySelectorAll("fieldset.strategy-options")) {
    const on = $(`id_${fs.dataset.kind}`).value === fs.dataset.name;
    fs.hidden = !on;
    fs.disabled = !on;
  }
}

function readOptions() {
  const options = {};
  const specs = [];
  for (const field of activeFieldset().querySelectorAll(".field[data-option]")) {
    const name = field.dataset.option;
    const type = field.dataset.type;
    const input = field.querySelector("input, select");
    const spec = { name, type, min: numberOrNull(input.min), max: numberOrNull(input.max) };
    specs.push(spec);
    if (type === "multichoice") options[name] = [...field.querySelectorAll("input:checked")].map((i) => i.value);
    else if (type === "bool") options[name] = input.checked;
    else if (type === "int" || type === "float") options[name] = input.value === "" ? null : Number(input.value);
    else options[name] = input.value;
  }
  return { options, specs };
}

function numberOrNull(v) { return v === "" || v === undefined ? null : Number(v); }

function state() {
  const { options, specs } = readOptions();
  const dataset = $("id_dataset").value;
  return { space: $("id_space").value, evaluator: $("id_evaluator").value, dataset, options, specs,
    datasetKind: (data.datasets[dataset] || {}).task_kind };
}

function showErrors(errors) {
  for (const el of form.querySelectorAll(".error.js, .space-options .error")) {
    if (!el.dataset.server) { el.hidden = true; el.textContent = ""; }
  }
  for (const el of form.querySelectorAll(".field.invalid.js-invalid")) el.classList.remove("invalid", "js-invalid");
  for (const [key, message] of Object.entries(errors)) {
    const field = key.startsWith("option:")
      ? activeFieldset().querySelector(`.field[data-option="${key.slice(7)}"]`)
      : $(`field-${key}`);
    if (!field) continue;
    const p = field.querySelector("p.error:last-of-type");
    p.hidden = false;
    p.textContent = message;
    field.classList.add("invalid", "js-invalid");
  }
}

function syncHelp() {
  for (const el of form.querySelectorAll("[data-help-for]")) {
    el.hidden = $(`id_${el.dataset.helpFor}`).value !== el.dataset.value;
  }
  $("budget-unit-wrap").hidden = $("id_budget_kind").value !== "time";
}

async function postJson(url, body) {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" } });
  return { ok: res.ok, body: await res.json() };
}

async function refreshPreview() {
  const mine = ++generation;
  const s = state();
  const errors = checkDesign(s, data.compatibility);
  showErrors(errors);
  if (Object.keys(errors).some((k) => k.startsWith("option:"))) {
    $("preview-error").hidden = false;
    $("preview-error").textContent = "Fix the highlighted options to see a preview.";
    return;
  }
  $("preview-error").hidden = true;
  const body = { space: s.space, options: s.options };
  const preview = await postJson(form.getAttribute("data-preview-url"), body);
  if (mine !== generation) return;
  if (!preview.ok) {
    $("preview-error").hidden = false;
    $("preview-error").textContent = Object.values(preview.body.errors || {}).join(" ");
    return;
  }
  $("space-size").textContent = preview.body.size_text;
  const host = $("preview-svg");
  host.replaceChildren(...preview.body.cell_svgs.map((svg, i) => {
    const box = document.createElement("div");
    box.className = "cell-box";
    box.innerHTML = `<div class="cap"></div><div class="svg-host">${svg}</div>`;
    box.querySelector(".cap").textContent = `${preview.body.cells[i]} cell`;
    return box;
  }));
  await refreshEstimate(mine, s);
  await refreshPlan(mine, s);
}

async function refreshEstimate(mine, s) {
  const device = form.querySelector("#preview input[name=device_class]:checked").value;  // the estimate's own
  $("epoch-time").textContent = "measuring…";
  const res = await postJson(form.getAttribute("data-estimate-url"),
    { space: s.space, options: s.options, dataset: s.dataset, evaluator: s.evaluator, device });
  if (mine !== generation) return;
  if (!res.ok) {
    $("epoch-time").textContent = "—";
    $("estimate-basis").textContent = Object.values(res.body.errors || {}).join(" ");
    return;
  }
  const est = res.body;
  $("epoch-time").textContent = est.device === "gpu" ? `~${est.text} (estimate)` : est.text;
  const assumed = est.assumed_train_size ? ` No dataset chosen: assumes ${est.train_size} training images.` : "";
  $("estimate-basis").textContent = `${est.basis}.${assumed}`;
}

const UNIT_SECONDS = { m: 60, h: 3600 };

// Seconds of a time budget from a value field and a unit select (null: not a time budget).
function budgetSeconds(valueId, unitId, kindId) {
  const value = Number($(valueId).value);
  const unit = $(unitId).value;
  if (kindId && $(kindId).value !== "time") return null;
  return value > 0 && UNIT_SECONDS[unit] ? value * UNIT_SECONDS[unit] : null;
}

// The budget planner's verdict before Start (webapp/designer/plan.py): what the search and the final
// training budgets buy on this server's CPU, and the smallest budget that would do when too small.
async function refreshPlan(mine, s) {
  const body = { space: s.space, options: s.options, dataset: s.dataset, evaluator: s.evaluator,
    search_seconds: budgetSeconds("id_budget_value", "id_budget_unit", "id_budget_kind"),
    final_seconds: budgetSeconds("id_final_value", "id_final_unit") };
  const res = await postJson(form.getAttribute("data-plan-url"), body);
  if (mine !== generation) return;
  const plans = res.ok ? [["plan-search", res.body.search], ["plan-final", res.body.final]] : [];
  $("plan-box").hidden = !plans.some(([, p]) => p) && !(res.ok && res.body.note);
  for (const [id, p] of plans) {
    $(id).textContent = p ? p.message : "";
    $(id).className = p && !p.meaningful ? "small alert warn" : "small";
  }
  $("plan-basis").textContent = res.ok && res.body.note ? res.body.note
    : res.ok && res.body.assumed_sizes ? `No dataset chosen: assumes ${res.body.train_size} training images.` : "";
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => { refreshPreview().catch((err) => console.warn(err)); }, 350);
}

form.addEventListener("input", schedule);
form.addEventListener("change", (ev) => {
  if (ev.target.id === "id_space") showSpace();
  if (ev.target.id === "id_controller" || ev.target.id === "id_evaluator") showStrategy();
  syncHelp();
  schedule();
});
document.querySelectorAll("input[name=device_class]").forEach((r) => r.addEventListener("change", schedule));
form.addEventListener("submit", (ev) => {
  const errors = checkDesign(state(), data.compatibility);
  if (Object.keys(errors).length) {
    ev.preventDefault();
    showErrors(errors);
    form.querySelector(".field.invalid")?.scrollIntoView({ block: "center" });
  }
});
for (const p of form.querySelectorAll("p.error:not([hidden])")) p.dataset.server = "1";
showSpace();
showStrategy();
syncHelp();
schedule();
