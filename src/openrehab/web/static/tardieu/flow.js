// The guided catch-angle measurement: choose the joint, set up the camera, one slow stretch,
// three fast ones, then the result. MediaPipe finds the body in this page (the live
// session's modules); only the joint angles are sent to the server, never the video.

import { startCamera, stopCamera } from "../live/camera.js";
import { detailText } from "../shared/detail.js";
import { Tracker, everyVideoFrame } from "../live/landmarks.js";
import { Voice } from "../live/voice.js";
import { jointPoints, orientationAt, stretchAngle } from "./angle.js";

const data = JSON.parse(document.getElementById("tardieu-data").textContent);
const $ = (id) => document.getElementById(id);
const STEPS = ["choose", "camera", "slow", "fast", "result"];
const FAST_TRIALS = 3;
const MOVED_DEG = 15; // a stretch has started once the angle moved this far
const STILL_DEG = 3; // ... and has ended once it stays within this for STILL_S
const STILL_S = { slow: 3, fast: 1.5 };
const MAX_GAP_S = 0.25; // the analysis needs no longer gap (docs/tardieu.md)
const MAX_S = Math.min(data.max_s || 60, 60) - 0.5;

const CAMERA_PROBLEMS = {
  denied: "The camera is blocked for this page. Allow the camera in the browser's address bar, then try again.",
  none: "No camera was found on this device.",
  busy: "The camera is in use by another program (for example a video call). Close it and try again.",
  insecure: "This browser only allows the camera on a secure (https) address. Ask whoever set up OpenRehab.",
  other: "The camera could not start. Try again.",
};
// Quality issues in plain words (docs/tardieu.md codes); null: nothing the helper can change.
const PLAIN_ISSUES = {
  slow_too_fast: "The slow stretch was too quick: count slowly to five.",
  fast_too_slow: "A fast stretch was not quick enough: one quick, smooth movement (never into pain).",
  short_of_range: "A fast stretch stopped early: go as far as the slow stretch went, if it does not hurt.",
  no_release: "The end of a fast stretch was hard to read.",
  noisy: "The camera saw the joint unsteadily: add light and keep the camera still.",
  few_samples: "A stretch was too short for the camera to see well: keep the whole joint in view.",
  low_rate: null,
};
const SCALE_WORDS = {
  elbow: "180° is a straight elbow",
  knee: "180° is a straight knee",
  ankle: "0° is the foot at a right angle to the shin",
  wrist: "0° is the hand in line with the forearm",
};

const state = {
  step: "choose",
  joint: "elbow",
  side: "left",
  sign: 1, // the wrist's orientation (angle.js), fixed at the slow stretch's start
  tracker: null,
  stopFrames: null,
  points: null,
  angle: null,
  shownAt: 0,
  rec: null,
  slow: null,
  fast: [],
};
const voice = new Voice();
voice.setEnabled(false);

function choice(name) {
  const checked = document.querySelector(`input[name="${name}"]:checked`);
  return checked ? checked.value : null;
}

function show(step, focus = true) {
  state.step = step;
  document.body.dataset.step = step;
  for (const section of document.querySelectorAll("section.step")) {
    section.hidden = section.dataset.step !== step;
  }
  $("stage").hidden = !["camera", "slow", "fast"].includes(step);
  $("step-of").textContent = `Step ${STEPS.indexOf(step) + 1} of ${STEPS.length}`;
  const heading = $(`${step}-h`);
  if (heading && focus) heading.focus();
}

function focusButton(id) {
  const button = $(id);
  if (button && !button.hidden) button.focus();
}

function say(text) {
  voice.say(text, { interrupt: true });
}

// --- step 1: the joint and the side ---------------------------------------------------------
function chooseJoint() {
  state.joint = choice("joint") || "elbow";
  state.side = choice("side") || "left";
  const words = data.joints[state.joint];
  $("how").textContent = words.how;
  $("camera-how").textContent = words.camera;
}

for (const input of document.querySelectorAll('input[name="joint"], input[name="side"]')) {
  input.addEventListener("change", () => {
    chooseJoint();
    state.sign = 1;
  });
}

$("voice-switch").addEventListener("click", () => {
  const on = $("voice-switch").getAttribute("aria-pressed") !== "true";
  $("voice-switch").setAttribute("aria-pressed", String(on));
  voice.setEnabled(on);
  if (on) say($("how").textContent);
});

$("to-camera").addEventListener("click", () => {
  chooseJoint();
  show("camera");
  say($("camera-how").textContent);
  focusButton(state.tracker ? "to-slow" : "camera-on");
});

for (const back of document.querySelectorAll("[data-back]")) {
  back.addEventListener("click", () => show(back.dataset.back));
}

// --- step 2: the camera ---------------------------------------------------------------------
$("camera-on").addEventListener("click", async () => {
  const video = $("video");
  $("camera-problem").hidden = true;
  $("camera-on").disabled = true;
  $("seen").textContent = "Starting the camera…";
  try {
    await startCamera(video);
    if (!state.tracker) {
      $("seen").textContent = "Getting ready to find the body…";
      const tracker = new Tracker(data.vision, "pose");
      await tracker.load();
      state.tracker = tracker;
    }
  } catch (failure) {
    stopCamera(video);
    const problem = (failure && failure.problem) || "other";
    $("camera-problem").textContent = CAMERA_PROBLEMS[problem] || CAMERA_PROBLEMS.other;
    $("camera-problem").hidden = false;
    $("seen").textContent = "";
    $("camera-on").disabled = false;
    $("camera-on").focus();
    return;
  }
  $("camera-on").hidden = true;
  $("to-slow").hidden = false;
  $("to-slow").focus();
  state.stopFrames = everyVideoFrame(video, onFrame);
});

$("to-slow").addEventListener("click", () => {
  show("slow");
  say("Move slowly, counting to five, until the muscle stops you. Never push into pain.");
  focusButton(state.slow ? "to-fast" : "slow-go");
});

function onFrame() {
  const video = $("video");
  const result = state.tracker && state.tracker.detect(video);
  const pose = result && result.pose;
  const points = jointPoints(pose, state.joint, state.side, video.videoWidth || 1, video.videoHeight || 1);
  const now = performance.now();
  state.points = points;
  state.angle = points ? stretchAngle(state.joint, points, state.sign) : null;
  if (state.rec && state.angle !== null) record(now, state.angle);
  if (now - state.shownAt > 100) {
    state.shownAt = now;
    $("angle").textContent = state.angle === null ? "--" : String(Math.round(state.angle));
    if (state.step === "camera") {
      const seen = data.joints[state.joint].seen;
      $("seen").textContent = points
        ? `The camera sees the ${seen}.`
        : `The camera cannot see the ${seen} yet: move the camera or ${data.name}.`;
    }
  }
}

// --- steps 3 and 4: recording ---------------------------------------------------------------
function begin(kind, n = 0) {
  if (kind === "slow") state.sign = orientationAt(state.joint, state.points, state.sign);
  if (state.points) state.angle = stretchAngle(state.joint, state.points, state.sign);
  state.rec = { kind, n, start: performance.now(), t: [], a: [], from: state.angle };
  document.body.dataset.recording = kind === "slow" ? "slow" : `fast-${n}`;
  $("range").textContent = "";
  say("Go");
}

function record(now, angle) {
  const rec = state.rec;
  const t = (now - rec.start) / 1000;
  if (rec.from === null) rec.from = angle;
  const ms = Math.round(t * 1000) / 1000;
  if (rec.t.length && ms <= rec.t[rec.t.length - 1]) return; // two frames in one millisecond
  if (rec.t.length && ms - rec.t[rec.t.length - 1] > MAX_GAP_S) rec.gap = true;
  rec.t.push(ms);
  rec.a.push(Math.round(angle * 10) / 10);
  if (t >= MAX_S) return finish();
  const moved = rec.a.some((a) => Math.abs(a - rec.from) >= MOVED_DEG);
  const still = STILL_S[rec.kind];
  if (!moved || t < still) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = rec.t.length - 1; i >= 0 && rec.t[i] >= t - still; i -= 1) {
    lo = Math.min(lo, rec.a[i]);
    hi = Math.max(hi, rec.a[i]);
  }
  if (hi - lo < STILL_DEG) finish();
}

// Stop recording; the series, or null with the reason shown.
function finish() {
  const rec = state.rec;
  if (!rec) return;
  state.rec = null;
  delete document.body.dataset.recording;
  say("Stop");
  const series = { t_s: rec.t, angle_deg: rec.a };
  const span = rec.a.length ? Math.max(...rec.a) - Math.min(...rec.a) : 0;
  let problem = null;
  if (rec.gap) {
    problem = "The camera lost sight of the joint for a moment. Please do it again, with the whole joint in view.";
  } else if (rec.a.length < 20 || rec.t[rec.t.length - 1] - rec.t[0] < 1) {
    problem = "That was too short, or the camera lost sight of the joint. Please do it again.";
  } else if (span < 10) {
    problem = "The camera did not see a stretch. Please do it again, with the whole joint in view.";
  }
  (rec.kind === "slow" ? slowDone : fastDone)(problem ? null : series, problem, rec);
}

function rangeText(series) {
  const lo = Math.round(Math.min(...series.angle_deg));
  const hi = Math.round(Math.max(...series.angle_deg));
  return `From ${lo}° to ${hi}° (${SCALE_WORDS[state.joint]}).`;
}

$("slow-go").addEventListener("click", () => {
  if (state.rec) return finish();
  state.slow = null;
  begin("slow");
  $("slow-go").textContent = "Done";
  $("slow-status").textContent = "Recording: move slowly, counting to five. Press Done at the end.";
  $("to-fast").hidden = true;
  $("slow-again").hidden = true;
});

function slowDone(series, problem) {
  $("slow-go").textContent = "Start";
  if (!series) {
    $("slow-status").textContent = problem;
    $("slow-go").focus();
    return;
  }
  state.slow = series;
  state.fast = [];
  $("slow-status").textContent = `Range reached: ${rangeText(series)}`;
  $("slow-go").hidden = true;
  $("to-fast").hidden = false;
  $("slow-again").hidden = false;
  $("to-fast").focus();
}

$("slow-again").addEventListener("click", () => {
  $("slow-go").hidden = false;
  $("to-fast").hidden = true;
  $("slow-again").hidden = true;
  $("slow-status").textContent = "Press Start, then move.";
  $("slow-go").focus();
});

$("to-fast").addEventListener("click", () => {
  state.fast = [];
  fastReady();
  show("fast");
  say("Now as fast as you can in one smooth movement, from the same start. Then back slowly.");
  focusButton("fast-go");
});

function fastReady() {
  $("fast-n").textContent = String(state.fast.length + 1);
  $("fast-go").hidden = false;
  $("fast-go").textContent = "Start";
  $("fast-next").hidden = true;
  $("fast-again").hidden = true;
  $("fast-status").textContent = "Put the joint in the start position. Press Start, then move.";
}

$("fast-go").addEventListener("click", () => {
  if (state.rec) return finish();
  begin("fast", state.fast.length + 1);
  $("fast-go").textContent = "Done";
  $("fast-status").textContent = "Recording: one fast, smooth movement, then back slowly.";
});

function fastDone(series, problem) {
  $("fast-go").textContent = "Start";
  if (!series) {
    $("fast-status").textContent = problem;
    $("fast-go").focus();
    return;
  }
  state.fast.push(series);
  const n = state.fast.length;
  $("fast-status").textContent = `Fast stretch ${n} done: ${rangeText(series)}`;
  $("fast-go").hidden = true;
  $("fast-again").hidden = false;
  $("fast-next").hidden = false;
  $("fast-next").textContent = n < FAST_TRIALS ? `Next: fast stretch ${n + 1} of ${FAST_TRIALS}` : "See the result";
  $("fast-next").focus();
}

$("fast-again").addEventListener("click", () => {
  state.fast.pop();
  fastReady();
  focusButton("fast-go");
});

$("fast-next").addEventListener("click", () => {
  if (state.fast.length < FAST_TRIALS) {
    fastReady();
    focusButton("fast-go");
    say(`Fast stretch ${state.fast.length + 1}`);
  } else {
    analyse();
  }
});

// --- step 5: the result ---------------------------------------------------------------------
async function analyse() {
  show("result");
  const box = $("result");
  box.replaceChildren(para("Working out the result…"));
  const body = {
    joint: state.joint,
    side: state.side,
    increasing: true,
    method: "camera",
    slow: state.slow,
    fast: state.fast,
  };
  let response;
  let answer = {};
  try {
    response = await fetch(data.api, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    answer = await response.json().catch(() => ({}));
  } catch {
    response = null;
  }
  if (!response || response.status !== 201) return showFailure(box, response, answer);
  document.body.dataset.saved = String(answer.id);
  (data.clinical ? showClinical : showPlain)(box, answer.analysis);
  $("result-h").focus();
}

function para(text, className) {
  const p = document.createElement("p");
  p.textContent = text;
  if (className) p.className = className;
  return p;
}

function list(items) {
  const ul = document.createElement("ul");
  for (const item of items) {
    const li = document.createElement("li");
    li.textContent = item;
    ul.append(li);
  }
  return ul;
}

const deg = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)}°`);

function showPlain(box, a) {
  const said = a.catch_detected
    ? `The muscle tightened at ${deg(a.r1_deg)} when moved fast; it moves to ${deg(a.r2_deg)} slowly.`
    : `The muscle did not catch when moved fast; it moves to ${deg(a.r2_deg)} slowly.`;
  const issues = a.quality.issues.map((i) => PLAIN_ISSUES[i.code]).filter(Boolean);
  box.replaceChildren(
    para(said, "result-line"),
    para(`(${SCALE_WORDS[state.joint]}.)`),
    para("Saved for the therapist.", "saved"),
  );
  if (issues.length) {
    box.append(para("It could be measured better:"), list(issues), para("You can try again now, or another day."));
  }
  say(said);
}

function showClinical(box, a) {
  const table = document.createElement("table");
  table.className = "table numbers";
  const rows = [
    ["R1 (catch angle, V3)", a.catch_detected ? deg(a.r1_deg) : "no catch"],
    ["R2 (slow range, V1)", deg(a.r2_deg)],
    ["R2 − R1 (dynamic component)", a.dynamic_component_deg === null ? "–" : deg(a.dynamic_component_deg)],
    ["V1 peak", `${Math.round(a.v_slow_deg_s)}°/s`],
    ["V3 peaks", a.v_fast_deg_s.map((v) => `${Math.round(v)}°/s`).join(", ")],
    ["Catch per trial", a.trials.map((t) => (t.catch_detected ? deg(t.catch_angle_deg) : "none")).join(", ")],
    ["Quality", `${Math.round(a.quality.score * 100)} %`],
  ];
  for (const [name, value] of rows) {
    const tr = table.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = name;
    tr.append(th);
    tr.insertCell().textContent = value;
  }
  box.replaceChildren(
    table,
    para(`${data.joints[state.joint].label}, ${state.side}: ${SCALE_WORDS[state.joint]}; camera at about ${frameRate(state.slow)} frames a second.`),
    para(a.reaction_hint.charAt(0).toUpperCase() + a.reaction_hint.slice(1) + "."),
  );
  if (a.quality.issues.length) {
    box.append(para("Quality issues:"), list(a.quality.issues.map((i) => i.message)));
  }
  box.append(para("Stored as a Tardieu assessment.", "saved"));
}

function frameRate(series) {
  const t = series.t_s;
  return Math.round((t.length - 1) / (t[t.length - 1] - t[0]));
}

function plainFailure(detail) {
  if (/no stretch found/.test(detail)) return "We did not see a full stretch in one of the recordings.";
  if (/Hz/.test(detail)) return "The camera could not follow the movement quickly enough on this device: close other apps, add light, and try again.";
  if (/gap/.test(detail)) return "The camera lost sight of the joint during a stretch: keep the whole joint in view.";
  return "The recordings could not be used.";
}

function showFailure(box, response, answer) {
  const detail = detailText(answer);
  document.body.dataset.saved = "no";
  let text;
  if (response && response.status === 422) {
    text = data.clinical ? `Not analysed: ${detail || "invalid recording"}.` : plainFailure(detail);
  } else if (response && (response.status === 401 || response.status === 403)) {
    text = "You are logged out or may not record for this person. Log in and try again.";
  } else {
    text = "The result could not be saved: the connection failed.";
  }
  box.replaceChildren(para(text, "problem"), para("Nothing was saved. Please try again."));
  $("result-h").focus();
}

$("try-again").addEventListener("click", () => {
  state.slow = null;
  state.fast = [];
  $("slow-go").hidden = false;
  $("to-fast").hidden = true;
  $("slow-again").hidden = true;
  $("slow-status").textContent = "Press Start, then move.";
  delete document.body.dataset.saved;
  show(state.tracker ? "slow" : "camera");
  focusButton(state.tracker ? "slow-go" : "camera-on");
});

window.addEventListener("pagehide", () => {
  if (state.stopFrames) state.stopFrames();
  stopCamera($("video"));
  if (state.tracker) state.tracker.close();
});

chooseJoint();
show("choose", false);
document.body.dataset.ready = "1";
