// The set-up screen for one exercise of the session (the first is also drawn by the server).

const $ = (id) => document.getElementById(id);

export function describe(item) {
  const side = item.side !== "both" ? `${capital(item.side)} side · ` : "";
  const sets = `${item.sets} ${item.sets === 1 ? "set" : "sets"} of ${item.reps}`;
  return `${side}${item.mode_words} · ${sets} · level ${item.level}`;
}

export function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

export function renderSetup(item, index, total, walk, cameraOn) {
  const ex = item.exercise;
  $("setup-kicker").textContent = walk && total > 1 ? `Exercise ${index + 1} of ${total}` : "Get ready";
  $("setup-h").textContent = ex.name;
  document.title = `${ex.name} · OpenRehab`;
  $("setup-detail").textContent = describe(item);
  const img = $("setup-diagram");
  img.src = ex.diagram_url;
  img.alt = `Picture of ${ex.name}: the faded figure is where you start, the bold one where you move to.`;
  $("setup-steps").replaceChildren(...ex.steps.map((step) => li(step)));
  const tapOnly = item.sensor === "tap";
  $("setup-camera").hidden = tapOnly;
  const s = item.setup;
  $("setup-list").replaceChildren(...[s.place, s.distance, s.see, s.light].map((t) => li(t)));
  const problem = $("camera-problem");
  problem.hidden = !tapOnly;
  problem.textContent = tapOnly ? s.place : "";
  $("tap-note").hidden = !item.tap_first;
  $("tap-note").textContent = item.tap_note;
  $("choices").classList.toggle("tap-first", item.tap_first);
  const camera = $("choose-camera");
  camera.hidden = tapOnly;
  camera.textContent = cameraOn ? "Start with the camera" : "Turn on the camera";
  $("choose-demo").hidden = tapOnly || !item.demo;
}

export function showProblem(text) {
  const problem = $("camera-problem");
  problem.textContent = text;
  problem.hidden = false;
  $("choose-tap").focus();
}

function li(text) {
  const item = document.createElement("li");
  item.textContent = text;
  return item;
}
