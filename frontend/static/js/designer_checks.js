// Instant client-side checks of the designer (pure: values in, field -> message out).
// The server checks the same things again; these only save a round trip.

/**
 * @param {{space:string, evaluator:string, dataset:string, options:Object, specs:Array,
 *   datasetKind?:string}} state  datasetKind: the chosen dataset's task kind ("image", "language")
 * @param {Object} compat searchcore.compat.compatibility_table(): per space its usable evaluators,
 *   why the others are not ("why_not") and which evaluators read a dataset ("needs_dataset").
 */
export function checkDesign(state, compat) {
  const errors = {};
  for (const spec of state.specs) {
    const value = state.options[spec.name];
    if (spec.type === "multichoice" && (!value || value.length === 0)) {
      errors[`option:${spec.name}`] = "select at least one";
    } else if (spec.type === "int" || spec.type === "float") {
      if (value === null || Number.isNaN(value)) errors[`option:${spec.name}`] = "enter a number";
      else if (spec.type === "int" && !Number.isInteger(value)) errors[`option:${spec.name}`] = "enter a whole number";
      else if (spec.min !== null && spec.min !== undefined && value < spec.min) errors[`option:${spec.name}`] = `must be at least ${spec.min}`;
      else if (spec.max !== null && spec.max !== undefined && value > spec.max) errors[`option:${spec.name}`] = `must be at most ${spec.max}`;
    }
  }
  const row = (compat || {})[state.space];
  const why = row && row.why_not ? row.why_not[state.evaluator] : undefined;
  if (why) errors.evaluator = `${why[0].toUpperCase()}${why.slice(1)}.`;
  const needsDataset = !row || !row.needs_dataset || row.needs_dataset[state.evaluator] !== false;
  if (needsDataset && !state.dataset) errors.dataset = "Choose a ready dataset (or upload one first).";
  else if (needsDataset && row && state.datasetKind && row.task_kind && state.datasetKind !== row.task_kind) {
    errors.dataset = `The ${state.space} space does ${kindName(row.task_kind)}; this dataset is for `
      + `${kindName(state.datasetKind)}.`;
  }
  return errors;
}

// searchcore.compat.KIND_NAMES (the server says the same on submit)
const KIND_NAMES = { image: "image classification", language: "language modelling" };
function kindName(kind) { return KIND_NAMES[kind] || kind; }
