// The rhythm game page: notes fall in time with synthesised music; the patient pinches thumb
// to finger (seen by the webcam) or presses a key when a note reaches the line. Judging and
// the difficulty staircase are pure modules (judge.js, adapt.js); this file wires them to the
// page, the sound, the camera and the live-session socket.
//
// Test hook: window.__rhythmTest (see the end of the file) lets a test configure the song,
// replay a scripted pinch sequence through the same path as camera pinches, and read the state.

import { Staircase, fingersFor } from "./adapt.js";
import { CAMERA_PROBLEMS, CameraPinches } from "./camera.js";
import { Conductor } from "./chart.js";
import { ClockModel, readClocks } from "./clock.js";
import { FINGER_LABELS, drawBoard } from "./draw.js";
import { FINGERS, Judge, Scoreboard } from "./judge.js";
import { RhythmSocket } from "./live.js";
import { Synth } from "./music.js";

const config = JSON.parse(document.getElementById("rhythm-config").textContent);
const $ = (id) => document.getElementById(id);
const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

const TICK_MS = 20;
const SCHEDULE_AHEAD_S = 0.25; // beats are handed to Web Audio this far ahead
const TRAVEL_S = 3; // a note is on screen this long before it reaches the line
const EXPIRE_DELAY_S = 0.15; // wait for camera pinches still being processed before a miss
const KEYS = { 1: "index", 2: "middle", 3: "ring", 4: "little" };

const ui = {
  form: $("setup-form"),
  setup: $("setup"),
  game: $("game"),
  result: $("result"),
  level: $("level"),
  board: $("board"),
  stage: $("stage"),
  feedback: $("feedback"),
  difficulty: $("difficulty"),
  inputLine: $("input-line"),
  score: $("score"),
  streak: $("streak"),
  accuracy: $("accuracy"),
  timing: $("timing"),
  timingNote: $("timing-note"),
  preview: $("preview"),
  video: $("video"),
  overlay: $("overlay"),
  handStatus: $("hand-status"),
  saved: $("saved"),
  events: $("events"),
  resultStats: $("result-stats"),
  resultTitle: $("result-h"),
};

let overrides = {}; // from the test hook
let game = null; // the running game
let lastGame = null;
const sentLog = [];
const receivedLog = [];

// --- setup form ---------------------------------------------------------------------------
function exerciseById(id) {
  return config.exercises.find((e) => e.id === id) ?? config.exercises[0];
}

function chosen(name) {
  return ui.form.querySelector(`input[name="${name}"]:checked`)?.value;
}

function fillLevels() {
  const exercise = exerciseById(chosen("exercise"));
  const current = exercise.current_level;
  ui.level.replaceChildren(
    ...exercise.levels.map((level) => {
      const option = document.createElement("option");
      option.value = String(level.level);
      option.textContent = `Level ${level.level}: ${Math.round(level.tempo_bpm)} beats a minute`;
      option.selected = level.level === Math.min(current, exercise.levels.at(-1).level);
      return option;
    }),
  );
}

ui.form.addEventListener("change", (event) => {
  if (event.target.name === "exercise") fillLevels();
});
fillLevels();

function storageKey(settings) {
  return `openrehab.rhythm.v1.${config.patient_id}.${settings.exerciseId}.${settings.side}`;
}

function loadStaircase(settings) {
  if (overrides.rung !== undefined) return new Staircase({ rung: overrides.rung });
  try {
    return Staircase.fromJSON(JSON.parse(localStorage.getItem(storageKey(settings)) || "null"));
  } catch {
    return new Staircase();
  }
}

function saveStaircase(settings, staircase) {
  try {
    localStorage.setItem(storageKey(settings), JSON.stringify(staircase));
  } catch {
    // private mode: the next game starts from the beginning
  }
}

$("reset-difficulty")?.addEventListener("click", () => {
  const settings = readSettings();
  try {
    localStorage.removeItem(storageKey(settings));
  } catch {
    // nothing stored
  }
  $("reset-done").textContent = "Done: the next game starts easy again.";
});

function readSettings() {
  const exercise = exerciseById(chosen("exercise"));
  const levelNumber = Number(ui.level.value) || 1;
  const level = exercise.levels.find((l) => l.level === levelNumber) ?? exercise.levels[0];
  return {
    exerciseId: exercise.id,
    exerciseName: exercise.name,
    side: chosen("side") || config.side,
    level: level.level,
    tempoBpm: overrides.tempo_bpm ?? level.tempo_bpm,
    notes: overrides.notes ?? Math.min(200, level.reps * 2),
    leadInBeats: overrides.lead_in_beats ?? 4,
    seed: overrides.seed ?? Math.floor(Math.random() * 2 ** 31),
    useCamera: overrides.camera ?? chosen("input") === "camera",
  };
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  start();
});
$("again").addEventListener("click", () => start());
$("change").addEventListener("click", () => {
  ui.result.hidden = true;
  ui.setup.hidden = false;
  $("start").focus();
});
$("stop").addEventListener("click", () => finish("stopped"));

// --- the game -----------------------------------------------------------------------------
async function start() {
  if (game) return;
  const settings = readSettings();
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  const audio = new AudioContextClass({ latencyHint: "interactive" });
  if (audio.state === "suspended") await audio.resume().catch(() => {});
  const staircase = loadStaircase(settings);
  const rung = staircase.settings;
  const current = {
    settings,
    audio,
    synth: new Synth(audio),
    clock: new ClockModel(),
    judge: new Judge({ goodMs: rung.goodMs }),
    score: new Scoreboard(),
    staircase,
    notes: [], // every note made, with its state, for drawing
    results: [],
    changes: [],
    flashes: [],
    injected: [], // scripted pinches: {audioT, finger}
    replay: overrides.replay ?? null,
    inputs: new Set(),
    phase: "starting",
    camera: null,
    startedAt: null,
    socketState: null,
  };
  game = current;
  ui.setup.hidden = true;
  ui.result.hidden = true;
  ui.game.hidden = false;
  resetHud();
  showDifficulty();
  say("Getting ready…");
  ui.game.scrollIntoView({ block: "start" });
  ui.stage.focus({ preventScroll: true });

  // The set is opened with the first judged note, so a game stopped before any note
  // leaves no empty set behind.
  current.socket = new RhythmSocket(`/api/patients/${config.patient_id}/live`, {
    log: sentLog,
    onEvent: (message) => receivedLog.push(message),
    onState: (state, message) => {
      current.socketState = state;
      if (state === "failed" && message?.message) current.refusal = message.message;
    },
  });

  if (settings.useCamera) await startCamera(settings);
  else ui.inputLine.textContent = keyboardHint("You are playing with the keyboard.");
  if (game !== current) return; // stopped while the camera was starting

  game.clock.update(readClocks(audio, performance.now()));
  game.conductor = new Conductor({
    tempoBpm: settings.tempoBpm,
    notes: settings.notes,
    startTime: audio.currentTime + 0.4,
    leadInBeats: settings.leadInBeats,
    seed: settings.seed,
  });
  game.conductor.setDifficulty(rung);
  game.phase = "playing";
  game.startedAt = audio.currentTime;
  say("Get ready. Pinch when a note reaches the line.");
  game.timer = window.setInterval(tick, TICK_MS);
  requestAnimationFrame(frame);
}

function keyboardHint(prefix) {
  return `${prefix} Press Space when a note reaches the line (keys 1 to 4 for each finger).`;
}

async function startCamera(settings) {
  ui.inputLine.textContent = "Starting the camera…";
  const camera = new CameraPinches(ui.video, {
    side: settings.side,
    overlay: ui.overlay,
    onPinch: (pinch) => pinchAt(pinch),
    onHand: (seen) => {
      ui.handStatus.textContent = seen ? "Hand seen" : "Show your hand to the camera";
      ui.preview.classList.toggle("seen", seen);
    },
  });
  try {
    await camera.start();
    if (!game) {
      camera.stop();
      return;
    }
    game.camera = camera;
    camera.fingers = game.staircase.settings.fingerNames;
    ui.preview.hidden = false;
    ui.inputLine.textContent = `The camera is watching your ${settings.side} hand. The keyboard works too.`;
  } catch (failure) {
    const why = CAMERA_PROBLEMS[failure?.problem] ?? CAMERA_PROBLEMS.other;
    ui.inputLine.textContent = keyboardHint(`${why} You can play with the keyboard instead.`);
  }
}

function tick() {
  if (!game || game.phase !== "playing") return;
  const { audio, clock, conductor, judge } = game;
  clock.update(readClocks(audio, performance.now()));
  const now = clock.heard(performance.now());

  // Make the song ahead of time: beats go to Web Audio, notes to the judge and the board.
  const { beats, notes } = conductor.advance(audio.currentTime + Math.max(SCHEDULE_AHEAD_S, TRAVEL_S + 0.2));
  for (const beat of beats) game.synth.beat(beat);
  for (const note of notes) {
    judge.addNote(note);
    game.notes.push({ ...note, state: "pending" });
    const offset = game.replay?.[note.id];
    if (offset !== undefined && offset !== null) {
      const spec = typeof offset === "object" ? offset : { offset_ms: offset };
      game.injected.push({ audioT: note.t + spec.offset_ms / 1000, finger: spec.finger ?? note.finger });
    }
  }

  // Scripted pinches (test hook) arrive when their time is heard, through the camera's path.
  game.injected.sort((a, b) => a.audioT - b.audioT);
  while (game.injected.length && game.injected[0].audioT <= now) {
    const pinch = game.injected.shift();
    pinchAt({ finger: pinch.finger, tMs: clock.perfAt(pinch.audioT), source: "replay" });
  }

  for (const result of judge.expire(now - EXPIRE_DELAY_S)) judged(result, null);

  // Count-in on the board during the first beats.
  const firstNote = game.notes[0];
  game.countIn = firstNote && now < firstNote.t ? Math.ceil((firstNote.t - now) / conductor.beatS) : null;
  if (game.countIn > 4) game.countIn = null;

  if (conductor.finished && judge.pending.length === 0 && now >= conductor.endTime) finish("done");
}

function frame() {
  if (!game || game.phase !== "playing") return;
  const now = game.clock.heard(performance.now());
  const lanes = new Set(game.staircase.settings.fingerNames);
  for (const note of game.judge.pending) lanes.add(note.finger);
  drawBoard(ui.board, {
    now,
    travelS: TRAVEL_S,
    lanes: FINGERS.filter((f) => lanes.has(f)),
    notes: game.notes,
    goodMs: game.judge.goodMs,
    perfectMs: game.judge.perfectMs,
    flashes: game.flashes,
    countIn: game.countIn,
    reduceMotion: reduceMotion.matches,
  });
  requestAnimationFrame(frame);
}

/** A pinch: {finger (null = the finger of the nearest note), tMs (performance clock), source}. */
function pinchAt({ finger, tMs, source }) {
  if (!game || game.phase !== "playing") return;
  game.inputs.add(source === "replay" ? "replay" : source);
  const t = game.clock.heard(tMs);
  const result = game.judge.pinch(t, finger ?? game.judge.fingerNear(t));
  if (result.judgement) judged(result, tMs);
  else if (result.early) say("A little early. Wait for the line.");
}

function judged(result, pinchMs) {
  const { clock, score, staircase, judge } = game;
  game.results.push(result);
  const note = game.notes.find((n) => n.id === result.id);
  if (note) note.state = result.judgement;
  score.add(result);
  game.flashes = [...game.flashes.filter((f) => result.t - f.at < 1), { finger: result.finger, judgement: result.judgement, at: result.t }];
  if (result.judgement !== "miss") game.synth.melody(result.pitch, result.judgement === "perfect");

  const tMs = pinchMs ?? clock.perfAt(result.t);
  if (!game.socket.startMessage) {
    game.socket.open({
      exercise_id: game.settings.exerciseId,
      side: game.settings.side,
      level: game.settings.level,
      target_reps: game.settings.notes,
    });
  }
  game.socket.hit({
    t: tMs / 1000,
    note_t: clock.perfAt(result.note_t) / 1000,
    error_ms: result.error_ms,
    judgement: result.judgement,
    finger: result.finger,
  });

  const change = staircase.record(result.judgement !== "miss");
  if (change) {
    const rung = staircase.settings;
    judge.setWindow(rung.goodMs);
    game.conductor.setDifficulty(rung);
    if (game.camera) game.camera.fingers = rung.fingerNames;
    game.changes.push(change);
    saveStaircase(game.settings, staircase);
    showDifficulty();
  }
  say(feedbackFor(result, change));
  updateHud();
}

function feedbackFor(result, change) {
  let words;
  if (result.judgement === "perfect") words = "Perfect!";
  else if (result.judgement === "good") words = result.error_ms < 0 ? "Good, a little early." : "Good, a little late.";
  else if (result.error_ms === null) words = "Missed. Pinch when the note touches the line.";
  else words = result.error_ms < 0 ? "Too early." : "Too late.";
  return change ? `${words} ${change.message}` : words;
}

function say(text) {
  ui.feedback.textContent = text;
}

function resetHud() {
  ui.score.textContent = "0";
  ui.streak.textContent = "0";
  ui.accuracy.textContent = "–";
  ui.timing.textContent = "–";
  ui.timingNote.textContent = "";
}

function timingWords(meanMs) {
  if (meanMs === null) return "";
  if (Math.abs(meanMs) < 40) return "on time";
  return meanMs < 0 ? "a little early" : "a little late";
}

function updateHud() {
  const { score } = game;
  ui.score.textContent = String(score.score);
  ui.streak.textContent = String(score.streak);
  ui.accuracy.textContent = score.accuracy === null ? "–" : `${Math.round(score.accuracy * 100)}%`;
  ui.timing.textContent = score.meanAbsErrorMs === null ? "–" : `${Math.round(score.meanAbsErrorMs)} ms`;
  ui.timingNote.textContent = timingWords(score.meanErrorMs);
}

function showDifficulty() {
  const rung = game.staircase.settings;
  const tempo = Math.round(game.settings.tempoBpm * rung.tempoScale);
  const fingers = rung.fingerNames.map((f) => FINGER_LABELS[f].toLowerCase()).join(", ");
  ui.difficulty.textContent = `Timing window ±${rung.goodMs} ms · ${tempo} beats a minute · Thumb to: ${fingers}`;
}

async function finish(why) {
  if (!game || game.phase === "finished") return;
  const current = game;
  current.phase = "finished";
  window.clearInterval(current.timer);
  current.synth.stop();
  current.camera?.stop();
  ui.preview.hidden = true;
  // Notes already on their way when the player stops are not judged: the set holds what was played.
  const rung = current.staircase.settings;
  current.summary = current.score.summary({
    window_ms: rung.goodMs,
    perfect_window_ms: current.judge.perfectMs,
    tempo_bpm: Math.round(current.settings.tempoBpm * rung.tempoScale * 10) / 10,
    level_tempo_bpm: current.settings.tempoBpm,
    fingers: rung.fingerNames.join(","),
    extra_pinches: current.judge.extra,
    input: [...current.inputs].join(",") || "none",
    stopped_early: why !== "done",
  });
  saveStaircase(current.settings, current.staircase);
  game = null;
  lastGame = current;
  showResult(current);
  window.setTimeout(() => current.audio.close().catch(() => {}), 400);
  if (current.results.length === 0) {
    current.socket.close();
    ui.saved.textContent = "Nothing was played, so nothing was saved.";
    current.saved = null;
    return;
  }
  ui.saved.textContent = "Saving your game…";
  const complete = await Promise.race([
    current.socket.end(current.summary),
    new Promise((resolve) => window.setTimeout(() => resolve(null), 10000)),
  ]);
  current.saved = complete;
  if (complete) {
    ui.saved.textContent = `Saved: ${complete.count} notes in your exercise record.`;
    ui.events.replaceChildren(
      ...(complete.events ?? [])
        .filter((e) => e.kind !== "xp")
        .map((e) => {
          const li = document.createElement("li");
          li.textContent = e.message;
          return li;
        }),
    );
  } else if (current.refusal) {
    ui.saved.textContent = `Not saved: ${current.refusal} Your score is shown above.`;
  } else {
    ui.saved.textContent = "Your game could not be saved (no connection to OpenRehab). Your score is shown above.";
  }
}

function showResult(current) {
  const s = current.summary;
  ui.game.hidden = true;
  ui.result.hidden = false;
  ui.resultTitle.textContent = s.accuracy >= 0.75 ? "Well done!" : "Good effort!";
  const rows = [
    ["Score", String(s.score)],
    ["Notes hit", `${s.perfect + s.good} of ${s.notes} (${Math.round((s.accuracy ?? 0) * 100)}%)`],
    ["Best streak", String(s.best_streak)],
    ["Timing", s.mean_abs_error_ms === undefined ? "–" : `${Math.round(s.mean_abs_error_ms)} ms, ${timingWords(s.mean_error_ms ?? 0)}`],
  ];
  ui.resultStats.replaceChildren(
    ...rows.map(([label, value]) => {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = label;
      dd.textContent = value;
      div.append(dt, dd);
      return div;
    }),
  );
  ui.events.replaceChildren();
  ui.resultTitle.focus();
}

// --- keyboard and touch -------------------------------------------------------------------
document.addEventListener("keydown", (event) => {
  if (!game || game.phase !== "playing") return;
  if (event.key === "Escape") {
    event.preventDefault();
    finish("stopped");
    return;
  }
  const finger = event.key === " " || event.code === "Space" ? null : KEYS[event.key];
  if (finger === undefined) return;
  event.preventDefault(); // Space must not press a button or scroll while playing
  if (event.repeat) return; // holding a key down is one pinch
  pinchAt({ finger, tMs: event.timeStamp, source: "keyboard" });
});

ui.board.addEventListener("pointerdown", (event) => {
  if (!game || game.phase !== "playing") return;
  event.preventDefault();
  pinchAt({ finger: null, tMs: event.timeStamp, source: "touch" });
});

// --- test hook ----------------------------------------------------------------------------
window.__rhythmTest = {
  /** Options for the next game: tempo_bpm, notes, lead_in_beats, seed, rung, camera, replay. */
  configure(options) {
    overrides = { ...overrides, ...options };
  },
  /** Pinch each note at its time + offset (ms); an entry may be null (no pinch) or {offset_ms, finger}. */
  replay(offsets) {
    overrides.replay = offsets;
    if (game) game.replay = offsets;
  },
  /** Pinches at audio times (s, on the heard clock): [{t, finger}]. */
  pinchAt(times) {
    for (const { t, finger } of times) game?.injected.push({ audioT: t, finger: finger ?? null });
  },
  start,
  stop: () => finish("stopped"),
  state() {
    const current = game ?? lastGame;
    return {
      phase: game ? game.phase : lastGame ? "finished" : "idle",
      settings: current?.settings ?? null,
      now: current && game ? current.clock.heard(performance.now()) : null,
      notes: current?.notes.map(({ id, t, finger, state }) => ({ id, t, finger, state })) ?? [],
      results: current?.results ?? [],
      changes: current?.changes ?? [],
      staircase: current ? current.staircase.settings : null,
      window: current ? { goodMs: current.judge.goodMs, perfectMs: current.judge.perfectMs } : null,
      summary: current?.summary ?? null,
      saved: current?.saved ?? null,
      socket: current?.socketState ?? null,
      sent: sentLog,
      received: receivedLog,
      clockKind: current?.clock.kind ?? null,
      cameraFrames: current?.camera?.frames ?? 0,
    };
  },
  fingersFor,
};
