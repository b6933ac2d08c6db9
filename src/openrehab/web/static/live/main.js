// The live exercise session: set-up -> live counting (camera, demo or button) -> rest -> ...
// -> summary. The server counts and stores every repetition (docs/live-protocol.md); this
// page shows, speaks and plays.

import { CAMERA_PROBLEMS } from "./camera.js";
import { celebrate } from "./celebrate.js";
import { Overlay } from "./draw.js";
import { Pain } from "./pain.js";
import { Gauge, signalValue } from "./gauge.js";
import { Music } from "./music.js";
import { Rest } from "./rest.js";
import { Ring } from "./ring.js";
import { applyContrast, toggle } from "./settings.js";
import { Sensing } from "./sensing.js";
import { renderSetup, showProblem } from "./setup.js";
import { LiveSocket } from "./socket.js";
import { renderSummary, shownEvents } from "./summary.js";
import { numberWord, Voice } from "./voice.js";

const $ = (id) => document.getElementById(id);
// Reps with a confidence below this are announced as "keep going" (docs/motion.md "Confidence").
const UNSURE_BELOW = 0.6;
const data = JSON.parse($("live-data").textContent);
const items = data.items;
const voice = new Voice();
const music = new Music();
const ring = new Ring($("ring"));
const restScreen = new Rest();
const gauge = new Gauge($("gauge"));

const state = {
  index: 0, // exercise of the session
  setNo: 0, // set of that exercise (0-based)
  source: null, // "camera" | "tap" | "demo"
  count: 0,
  running: false, // the set is open on the server
  paused: false,
  finishing: false, // end_set sent, waiting for set_complete
  stopping: false, // "stop for today": end the session after this set
  painStop: false, // the set was stopped for pain: what follows is chosen on the pain screen
  afterSet: null, // {msg, news} of a set stopped for pain
  closedSets: new Map(), // set id -> {result, events} (an undone pain score may re-judge one)
  judgedAgain: new Map(), // set id -> events, judged again before its set_complete arrived
  summaryElapsed: null, // ms, once the summary is shown (it is drawn again if a set is re-judged)
  painChoice: null, // what was chosen on the pain screen before that set had closed
  batch: [],
  lastT: 0,
  started: null,
  results: items.map((item) => ({
    name: item.exercise.name,
    side: item.side,
    unit: item.exercise.unit,
    needed: Math.abs(item.exercise.level_target - item.exercise.rest),
    reps: 0,
    best: null,
    sets: 0,
    last: item.last,
    events: [],
  })),
  restMoreSets: false,
  reconnecting: false,
  lost: false,
  lostSpokenAt: 0,
  wakeLock: null,
};
const item = () => items[state.index];
const result = () => state.results[state.index];

// --- switches -----------------------------------------------------------------------------
toggle($("music-switch"), "music", true, (on) => {
  music.setEnabled(on);
  if (on && state.running && !state.paused && !state.finishing) music.start();
});
toggle($("voice-switch"), "voice", true, (on) => voice.setEnabled(on));
toggle($("contrast-switch"), "contrast", false, applyContrast);
$("settings-toggle").addEventListener("click", () => {
  const open = $("settings-toggle").getAttribute("aria-expanded") !== "true";
  $("settings-toggle").setAttribute("aria-expanded", String(open));
  document.querySelector(".live-top").classList.toggle("open", open);
});

// --- screens ------------------------------------------------------------------------------
const SCREENS = ["setup", "live", "rest", "pain", "summary"];

function show(name, focus) {
  for (const screen of SCREENS) $(`screen-${screen}`).hidden = screen !== name;
  document.body.dataset.screen = name;
  const target = focus || $(`${name}-h`);
  if (target) target.focus({ preventScroll: false });
  window.scrollTo(0, 0);
}

function announce(text) {
  const region = $("announce");
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 30);
}

function coach(text) {
  $("coach").textContent = text;
}

function stageStatus(text) {
  const el = $("stage-status");
  el.textContent = text || "";
  el.hidden = !text;
}

// A message about the connection: over the picture, or in the coach line when counting by hand.
function notice(text) {
  if (state.source === "tap") coach(text);
  else stageStatus(text);
}

// --- the socket ---------------------------------------------------------------------------
const socket = new LiveSocket(data.ws_path, { onEvent, onState });

function onState(connection, code) {
  if (connection === "reconnecting") {
    state.reconnecting = true;
    notice("The connection was lost. Reconnecting… Your repetitions so far are saved.");
  } else if (connection === "ready" && state.reconnecting) {
    state.reconnecting = false;
    notice(state.source === "tap" ? "Connected again. Go on." : "");
  } else if (connection === "refused") {
    state.running = false;
    music.stop();
    notice(
      code === 4401
        ? "You are logged out. Go back to Today and log in again."
        : "This account cannot record exercises for this person.",
    );
  }
}

function onEvent(msg) {
  switch (msg.type) {
    case "ready":
      return ready(msg);
    case "rep":
      return rep(msg);
    case "slower":
      coach("Slower, please. Stretch gently.");
      return voice.say("Slower, please");
    case "tracking":
      return tracking(msg);
    case "rest":
      return goalReached();
    case "set_complete":
      return setComplete(msg);
    case "session_complete":
      return summary();
    case "error":
      return serverError(msg);
    default:
      return undefined;
  }
}

function ready(msg) {
  const resumed = state.running;
  state.running = true;
  setCount(msg.count);
  if (state.paused) socket.send({ type: "pause" });
  else if (!state.finishing) music.start();
  if (!resumed) {
    state.started = state.started || performance.now();
    coach(state.source === "tap" ? item().tap_note : "Move with the music.");
    voice.say(state.setNo === 0 ? `${item().exercise.name}. Let's start.` : "Let's go again.");
  }
}

function setCount(count) {
  state.count = count;
  const goal = item().reps;
  $("count").textContent = String(count);
  ring.set(count / goal);
}

function rep(msg) {
  const previous = state.count;
  setCount(msg.count);
  const r = result();
  r.reps += Math.max(0, msg.count - previous);
  const rom = msg.rep && msg.rep.rom;
  if (rom !== null && rom !== undefined) {
    r.best = r.best === null ? Math.abs(rom) : Math.max(r.best, Math.abs(rom));
    gauge.rep(msg.rep);
  }
  const goal = item().reps;
  // The counter is unsure of this rep (much longer or shorter than the others: perhaps two
  // merged, or half of one): no number is spoken, the person is asked to keep going.
  const confidence = msg.rep && msg.rep.confidence;
  const unsure = typeof confidence === "number" && confidence < UNSURE_BELOW;
  voice.say(unsure ? "Keep going" : numberWord(msg.count), { interrupt: true });
  announce(`${msg.count} of ${goal}`);
  music.chime(false);
  bump();
  if (msg.count >= goal) return goalReached();
  if (unsure) {
    coach("Keep going. I'm not sure I saw all of that one.");
  } else if (rom !== null && rom !== undefined && state.source !== "tap") {
    const stretch = item().mode === "stretch";
    if (msg.target_reached) coach(stretch ? "Good. Slow and gentle." : "Good one! You reached the goal.");
    else coach(stretch ? "Gently, only as far as is comfortable." : "Good. A little further if you can.");
  }
  return undefined;
}

function bump() {
  const box = $("count-box");
  box.classList.remove("bump");
  void box.offsetWidth; // restart the animation
  box.classList.add("bump");
}

function tracking(msg) {
  if (msg.state === "lost") {
    state.lost = true;
    const text = item().setup.lost;
    stageStatus(text);
    if (performance.now() - state.lostSpokenAt > 10000) {
      voice.say(text);
      state.lostSpokenAt = performance.now();
    }
  } else if (state.lost) {
    state.lost = false;
    stageStatus("");
    coach("I can see you again.");
  }
}

function serverError(msg) {
  if (msg.code === "duplicate") return; // two presses too close together: one repetition
  // The set cannot start: the camera cannot count it, or a safety rule (pain of 7 or more
  // today, standing not judged safe) says no. Say why on the setup screen.
  if (["camera_cannot_count", "resting", "not_safe"].includes(msg.code)) {
    sensing.stop();
    state.running = false;
    show("setup");
    showProblem(msg.message);
    return;
  }
  if (msg.code === "set_ended" && state.running) {
    // the set was closed elsewhere: carry on with the next one
    setComplete({ count: state.count, events: [] });
    return;
  }
  console.warn("live session:", msg.code, msg.message);
}

// --- sets ---------------------------------------------------------------------------------
function beginSet() {
  const it = item();
  state.count = 0;
  state.running = false;
  state.finishing = false;
  state.paused = false;
  state.batch = [];
  state.lost = false;
  stageStatus("");
  setPauseButton();
  ring.set(0);
  $("count").textContent = "0";
  $("goal").textContent = String(it.reps);
  $("live-name").textContent = it.exercise.name;
  $("set-of").textContent = it.sets > 1 ? `· set ${state.setNo + 1} of ${it.sets}` : "";
  const tap = state.source === "tap";
  document.body.dataset.source = state.source;
  $("tap").hidden = !tap;
  $("stage").hidden = tap;
  $("keys").textContent = `${tap ? "Space bar or Enter: count one repetition. P: pause." : "Space bar: pause or go on."} H: ${data.pain.button.toLowerCase()}.`;
  $("demo-badge").hidden = state.source !== "demo";
  $("gauge").hidden = tap;
  if (!tap) gauge.configure(it);
  music.configure({ beats: it.beats, rep_s: it.rep_s, stretch: it.mode === "stretch" });
  coach(tap ? it.tap_note : "Connecting…");
  show("live", tap ? $("tap") : $("pause"));
  keepAwake();
  socket.startSet({
    exercise_id: it.exercise.id,
    side: it.side,
    mode: it.mode,
    level: it.level,
    target_reps: it.reps,
    source: state.source,
    aspect: Math.round(sensing.aspect * 1000) / 1000,
    fps: sensing.fps,
    rest_s: it.rest_s,
  });
}

function goalReached() {
  if (state.finishing || !state.running) return;
  state.finishing = true;
  music.stop();
  const last = state.setNo + 1 >= item().sets;
  celebrate($("burst"), last ? "Great, all done!" : "Great, set done!");
  music.chime(true);
  voice.say("Great, set done!");
  coach("Great, set done!");
  socket.endSet();
}

function finishSetEarly() {
  if (!state.running || state.finishing) return;
  state.finishing = true;
  music.stop();
  coach("Saving…");
  socket.endSet();
}

function setComplete(msg) {
  state.running = false;
  state.finishing = false;
  music.stop();
  const r = result();
  r.sets += 1;
  const events = state.judgedAgain.get(msg.set_id) || msg.events || [];
  state.judgedAgain.delete(msg.set_id);
  r.events.push(...events);
  state.closedSets.set(msg.set_id, { result: r, events });
  const news = shownEvents(events);
  const good = news.find((e) => ["level_up", "unlock", "limb_level_up", "overall_level_up"].includes(e.kind));
  if (good) {
    const unlock = good.kind === "unlock";
    window.setTimeout(() => {
      celebrate($("burst"), unlock ? "New exercise unlocked!" : "Level up!");
      music.chime(true);
      const level = good.to_level ? ` You are now on level ${good.to_level}.` : "";
      voice.say(unlock ? "A new exercise is unlocked." : `Level up!${level}`);
    }, 1200);
  }
  if (state.stopping) return endSession();
  if (state.painStop) {
    state.painStop = false;
    state.afterSet = { msg, news };
    const chosen = state.painChoice;
    state.painChoice = null;
    return chosen ? afterPain(chosen) : undefined;
  }
  return carryOn(msg, news);
}

function carryOn(msg, news) {
  const moreSets = state.setNo + 1 < item().sets;
  const moreItems = data.walk && state.index + 1 < items.length;
  if (!moreSets && !moreItems) return endSession();
  if (moreSets) state.setNo += 1;
  return rest(msg, news, moreSets);
}

// After a set stopped for pain: `then(msg, news)` once the set is closed.
function afterPain(then) {
  if (!state.afterSet) {
    state.painChoice = then; // the set is still closing: setComplete() runs it
    return undefined;
  }
  const { msg, news } = state.afterSet;
  state.afterSet = null;
  return then(msg, news);
}

// --- rest ---------------------------------------------------------------------------------
function rest(msg, news, moreSets) {
  const it = item();
  const count = msg.count ?? state.count;
  const what = moreSets ? `Set ${state.setNo} done` : `${it.exercise.name} done`;
  const done = `${what}: ${count} ${count === 1 ? "repetition" : "repetitions"}.`;
  const next = moreSets ? `Next: set ${state.setNo + 1} of ${it.sets}.` : `Next: ${items[state.index + 1].exercise.name}.`;
  const seconds = moreSets ? it.rest_s : Math.min(it.rest_s, 60);
  state.restMoreSets = moreSets;
  show("rest");
  announce(`${done} Rest for ${seconds} seconds. ${next}`);
  restScreen.start({
    done,
    next,
    news,
    seconds,
    button: moreSets ? "Go on now" : "Next exercise",
    onEnd: () => afterRest(moreSets),
  });
}

function afterRest(moreSets) {
  restScreen.cancel();
  if (moreSets) return beginSet();
  state.index += 1;
  state.setNo = 0;
  sensing.stop({ keepCamera: item().sensor !== "tap" });
  renderSetup(item(), state.index, items.length, data.walk, sensing.cameraOn);
  show("setup");
  voice.say(`Next: ${item().exercise.name}.`);
  return undefined;
}

// --- the end ------------------------------------------------------------------------------
function endSession() {
  music.stop();
  state.stopping = true;
  restScreen.cancel();
  if (state.running) {
    socket.endSet(); // set_complete comes back, then the session is ended
    return;
  }
  if (!socket.endSession()) {
    const sid = socket.sessionId;
    if (sid) {
      fetch(`/api/patients/${data.patient_id}/sessions/${sid}/end`, { method: "POST", credentials: "same-origin" })
        .catch(() => {})
        .finally(summary);
    } else {
      summary();
    }
    return;
  }
  window.setTimeout(() => {
    if (document.body.dataset.screen !== "summary") summary();
  }, 5000);
}

function summary() {
  if (document.body.dataset.screen === "summary") return;
  socket.close();
  sensing.stop();
  releaseWake();
  pain.toSummary();
  const elapsed = state.started ? performance.now() - state.started : 0;
  state.summaryElapsed = elapsed;
  const { reps } = renderSummary(state.results, elapsed, state.source === "demo");
  show("summary");
  if (reps) voice.say(`Well done. ${reps} repetitions today.`);
}

// --- sensing ------------------------------------------------------------------------------
const sensing = new Sensing({
  video: $("video"),
  overlay: new Overlay($("overlay")),
  mirror: $("mirror"),
  vision: data.vision,
  onFrame,
});

function onFrame(frame) {
  if (!state.running || state.paused || state.finishing) return;
  const spec = item().gauge;
  if (spec) gauge.live(signalValue(spec, frame, sensing.aspect));
  // Times must increase strictly (a demo can hand over two frames in one animation frame).
  const t = Math.max(performance.now() / 1000, state.lastT + 0.001);
  state.lastT = t;
  state.batch.push({ t, pose: frame.pose, hands: frame.hands });
  if (state.batch.length >= 2) {
    socket.sendFrames(state.batch);
    state.batch = [];
  }
}

async function chooseCamera() {
  music.unlock();
  const it = item();
  const button = $("choose-camera");
  state.source = "camera";
  button.disabled = true;
  button.textContent = "Asking for the camera…";
  try {
    await sensing.camera();
    button.textContent = "Start with the camera";
  } catch (failure) {
    button.textContent = "Try the camera again";
    showProblem(CAMERA_PROBLEMS[failure.problem] || CAMERA_PROBLEMS.other);
    return;
  } finally {
    button.disabled = false;
  }
  show("live", $("pause"));
  stageStatus("Getting ready to see your movement… The first time takes a few seconds.");
  try {
    await sensing.track(it.sensor);
  } catch (error) {
    console.error(error);
    show("setup");
    showProblem("The movement tracker could not start in this browser. You can count with a button instead.");
    return;
  }
  stageStatus("");
  sensing.highlight(it.gauge);
  beginSet();
}

function chooseTap() {
  music.unlock();
  sensing.stop({ keepCamera: false });
  state.source = "tap";
  beginSet();
}

async function chooseDemo() {
  music.unlock();
  const it = item();
  const button = $("choose-demo");
  button.disabled = true;
  button.textContent = "Loading the demo…";
  try {
    await sensing.demoStream(it.exercise.demo_url, it.side);
  } catch {
    showProblem("There is no demo for this exercise yet. You can use the camera or a button.");
    return;
  } finally {
    button.disabled = false;
    button.textContent = "Watch a demo";
  }
  state.source = "demo";
  sensing.highlight(it.gauge);
  beginSet();
}

// --- controls -----------------------------------------------------------------------------
function setPauseButton() {
  const button = $("pause");
  button.setAttribute("aria-pressed", String(state.paused));
  button.textContent = state.paused ? "Go on" : "Pause";
  document.body.classList.toggle("paused", state.paused);
  $("tap").textContent = state.paused ? "Paused: press to go on" : "Count one repetition";
}

function togglePause() {
  if (!state.running || state.finishing) return;
  state.paused = !state.paused;
  socket.send({ type: state.paused ? "pause" : "resume" }, { queue: true });
  sensing.pause(state.paused);
  state.batch = [];
  state.lost = false;
  stageStatus("");
  setPauseButton();
  if (state.paused) {
    music.stop();
    coach("Paused. Press Go on when you are ready.");
    voice.say("Paused");
  } else {
    music.start();
    coach(state.source === "tap" ? item().tap_note : "Move with the music.");
  }
  announce(state.paused ? "Paused" : "Going on");
}

function tap() {
  if (state.paused) return togglePause(); // the big button also takes the person back in
  if (!state.running || state.finishing) return undefined;
  const t = Math.max(performance.now() / 1000, state.lastT + 0.001);
  state.lastT = t;
  socket.tap(t);
  const button = $("tap");
  button.classList.remove("pressed");
  void button.offsetWidth;
  button.classList.add("pressed");
  return undefined;
}

$("choose-camera").addEventListener("click", chooseCamera);
$("choose-tap").addEventListener("click", chooseTap);
$("choose-demo").addEventListener("click", chooseDemo);
$("tap").addEventListener("click", tap);
$("pause").addEventListener("click", togglePause);
$("finish-set").addEventListener("click", finishSetEarly);
$("skip-rest").addEventListener("click", () => afterRest(state.restMoreSets));
$("stop-here").addEventListener("click", endSession);

const TYPING = new Set(["BUTTON", "A", "INPUT", "SELECT", "TEXTAREA", "SUMMARY"]);
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
  const onControl = TYPING.has(event.target.tagName);
  const screen = document.body.dataset.screen;
  if (screen === "live") {
    if ((event.key === " " || event.key === "Enter") && !onControl) {
      event.preventDefault();
      if (state.source === "tap") tap();
      else togglePause();
    } else if (event.key === "p" || event.key === "P") {
      event.preventDefault();
      togglePause();
    } else if (event.key === "h" || event.key === "H") {
      event.preventDefault();
      pain.open();
    }
  } else if (screen === "rest" && event.key === " " && !onControl) {
    event.preventDefault();
    $("skip-rest").click();
  }
});

document.addEventListener("visibilitychange", () => {
  // A hidden tab gets no camera frames: pause rather than miss repetitions.
  if (document.hidden && state.running && !state.paused && state.source !== "tap") togglePause();
});

async function keepAwake() {
  try {
    if ("wakeLock" in navigator && !state.wakeLock) state.wakeLock = await navigator.wakeLock.request("screen");
  } catch {
    /* not allowed here: the screen may dim */
  }
}

function releaseWake() {
  if (state.wakeLock) state.wakeLock.release().catch(() => {});
  state.wakeLock = null;
}

// --- pain ---------------------------------------------------------------------------------
const pain = new Pain({
  pain: data.pain,
  voice,
  hooks: {
    show,
    sessionId: () => socket.sessionId,
    hold: () => state.running && !state.paused && !state.finishing && togglePause(),
    resume: () => {
      show("live", state.source === "tap" ? $("tap") : $("pause"));
      if (state.paused) togglePause();
    },
    stopSet: () => {
      state.painStop = state.running;
      state.painChoice = null;
      state.afterSet = state.running ? null : { msg: { count: state.count }, news: [] };
      if (state.running && !state.finishing) finishSetEarly();
    },
    stopToday: endSession,
    judgedAgain: (sets) => {
      // The score given again after an undo took back these sets' pain judgement: their
      // new events replace the ones they closed with ("... because you reported pain").
      for (const { set_id: id, events } of sets) {
        const fresh = events.map((e) => ({ ...e, message: e.reason }));
        const closed = state.closedSets.get(id);
        if (!closed) {
          state.judgedAgain.set(id, fresh); // its set_complete is still on its way
          continue;
        }
        closed.result.events = closed.result.events.filter((e) => !closed.events.includes(e)).concat(fresh);
        closed.events = fresh;
        if (state.afterSet?.msg.set_id === id) state.afterSet.news = shownEvents(fresh);
      }
      if (state.summaryElapsed !== null) renderSummary(state.results, state.summaryElapsed, state.source === "demo");
    },
    hasNext: () => data.walk && state.index + 1 < items.length,
    goOn: () => afterPain((msg, news) => rest(msg, news, false)),
    carryOn: () => afterPain(carryOn),
    start: () => show("setup"),
  },
});

// --- start --------------------------------------------------------------------------------
renderSetup(item(), 0, items.length, data.walk, false);
document.body.dataset.screen = "setup";
if (data.pain.ask) pain.open(true);
document.body.dataset.ready = "1";
const autoDemo = new URLSearchParams(window.location.search).get("demo") === "1";
if (autoDemo && item().demo && !data.pain.ask) chooseDemo();
