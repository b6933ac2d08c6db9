// Exercise page helpers: read the steps aloud and play the beat of a level.
// Nothing is downloaded: speech uses the browser's own voices (Web Speech API) and the clicks
// are synthesised with Web Audio. The beat times come from the server (openrehab.program.music)
// so the page and the live session pace repetitions the same way.

const plan = JSON.parse(document.getElementById("beat-plan").textContent);

// --- read aloud ---------------------------------------------------------------------------
const readButton = document.getElementById("read-aloud");
if ("speechSynthesis" in window) {
  readButton.hidden = false;
  readButton.addEventListener("click", () => {
    const steps = [...document.querySelectorAll(".steps li")].map((li) => li.textContent);
    window.speechSynthesis.cancel();
    const utterance = new SpeechSynthesisUtterance(steps.join(" "));
    utterance.rate = 0.85; // slower speech is easier to follow with aphasia
    window.speechSynthesis.speak(utterance);
  });
}

// --- metronome ----------------------------------------------------------------------------
const toggle = document.getElementById("beat-toggle");
const levelSelect = document.getElementById("beat-level");
const levelDetail = document.getElementById("beat-level-detail");
const statusLine = document.getElementById("beat-status");
const light = document.getElementById("beat-light");
let audio = null;
let timers = [];

function click(accent) {
  if (!audio) return;
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.frequency.value = accent ? 1320 : 880;
  gain.gain.setValueAtTime(0.4, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.08);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start();
  oscillator.stop(audio.currentTime + 0.1);
}

function stop(message) {
  timers.forEach(clearTimeout);
  timers = [];
  toggle.setAttribute("aria-pressed", "false");
  toggle.textContent = "Play the beat";
  statusLine.textContent = message;
  light.classList.remove("on", "accent");
}

function start() {
  const level = plan[Number(levelSelect.value)];
  const AudioContext = window.AudioContext || window.webkitAudioContext;
  if (!audio && AudioContext) audio = new AudioContext();
  if (audio && audio.state === "suspended") audio.resume();
  toggle.setAttribute("aria-pressed", "true");
  toggle.textContent = "Stop the beat";
  for (let rep = 0; rep < level.reps; rep += 1) {
    level.beats.forEach((beat, index) => {
      const atMs = (rep * level.rep_s + beat.t) * 1000;
      timers.push(
        setTimeout(() => {
          click(beat.accent);
          statusLine.textContent =
            `Repetition ${rep + 1} of ${level.reps}, beat ${index + 1}: ` +
            (beat.phase === "out" ? "move out" : "come back");
          light.classList.add("on");
          light.classList.toggle("accent", beat.accent);
          timers.push(setTimeout(() => light.classList.remove("on", "accent"), 150));
        }, atMs),
      );
    });
  }
  timers.push(setTimeout(() => stop("Well done. The set is over."), level.reps * level.rep_s * 1000));
}

toggle.addEventListener("click", () => {
  if (toggle.getAttribute("aria-pressed") === "true") stop("Stopped.");
  else start();
});
// The options name only the level (they fit a phone); the line beside says what it asks for.
function describeLevel() {
  const level = plan[Number(levelSelect.value)];
  levelDetail.textContent = `${Math.round(level.tempo_bpm)} beats per minute, ${level.reps} repetitions`;
}
describeLevel(); // the browser may have restored another choice (Back button)
window.addEventListener("pageshow", describeLevel);
levelSelect.addEventListener("change", () => {
  describeLevel();
  if (toggle.getAttribute("aria-pressed") === "true") stop("Stopped.");
});
