// Music made in the browser (Web Audio, no sound files) at the exercise's tempo.
// One repetition is `beats_per_rep` beats: the first half moves out, an optional silent hold,
// then the second half comes back (the same schedule as openrehab.program.music, sent by the
// server). A soft pad plays one chord while moving out and another while coming back; a gentle
// beat marks time and a brighter bell marks the start of each repetition. Stretches get a
// slower, quieter, calmer version.

const OUT_CHORD = [130.81, 196.0, 329.63]; // C3 G3 E4
const BACK_CHORD = [110.0, 164.81, 261.63]; // A2 E3 C4
const LOOKAHEAD_S = 0.25;

export class Music {
  constructor() {
    this.ctx = null;
    this.enabled = true;
    this.plan = null;
    this.bus = null;
    this.timer = null;
  }

  // Create (or wake) the audio context; call from a click or key press.
  unlock() {
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) return;
    if (!this.ctx) this.ctx = new AudioContext();
    if (this.ctx.state === "suspended") this.ctx.resume();
  }

  // plan: {beats: [{t, accent, phase}], rep_s, stretch}
  configure(plan) {
    this.plan = plan;
  }

  setEnabled(on) {
    this.enabled = on;
    if (!on) this.stop();
  }

  get playing() {
    return this.timer !== null;
  }

  start() {
    if (!this.enabled || !this.plan || this.playing) return;
    this.unlock();
    if (!this.ctx) return;
    const ctx = this.ctx;
    this.bus = ctx.createGain();
    this.bus.gain.value = this.plan.stretch ? 0.35 : 0.5;
    this.bus.connect(ctx.destination);
    this.nextRep = ctx.currentTime + 0.1;
    this.timer = window.setInterval(() => this.schedule(), 60);
    this.schedule();
  }

  stop() {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    if (this.bus && this.ctx) {
      const bus = this.bus;
      const now = this.ctx.currentTime;
      bus.gain.cancelScheduledValues(now);
      bus.gain.setValueAtTime(bus.gain.value, now);
      bus.gain.linearRampToValueAtTime(0, now + 0.15);
      window.setTimeout(() => bus.disconnect(), 300);
    }
    this.bus = null;
  }

  schedule() {
    const { beats, rep_s: repS, stretch } = this.plan;
    while (this.nextRep < this.ctx.currentTime + LOOKAHEAD_S) {
      const start = this.nextRep;
      const firstBack = beats.find((b) => b.phase === "back");
      const turn = start + (firstBack ? firstBack.t : repS / 2);
      this.pad(OUT_CHORD, start, turn, stretch);
      this.pad(BACK_CHORD, turn, start + repS, stretch);
      for (const beat of beats) this.tick(start + beat.t, beat.accent, stretch);
      this.nextRep = start + repS;
    }
  }

  pad(chord, from, to, stretch) {
    const ctx = this.ctx;
    const attack = stretch ? 0.8 : 0.25;
    const end = Math.max(to, from + attack + 0.1);
    const filter = ctx.createBiquadFilter();
    filter.type = "lowpass";
    filter.frequency.value = stretch ? 700 : 1100;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, from);
    gain.gain.linearRampToValueAtTime(stretch ? 0.07 : 0.09, from + attack);
    gain.gain.setValueAtTime(stretch ? 0.07 : 0.09, end - 0.05);
    gain.gain.exponentialRampToValueAtTime(0.0001, end + 0.5);
    filter.connect(gain).connect(this.bus);
    for (const frequency of chord) {
      for (const detune of [-4, 4]) {
        const osc = ctx.createOscillator();
        osc.type = "triangle";
        osc.frequency.value = frequency;
        osc.detune.value = detune;
        osc.connect(filter);
        osc.start(from);
        osc.stop(end + 0.6);
      }
    }
  }

  tick(at, accent, stretch) {
    const ctx = this.ctx;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    if (accent) {
      osc.frequency.value = stretch ? 660 : 880; // a soft bell: a new repetition starts
      gain.gain.setValueAtTime(stretch ? 0.12 : 0.22, at);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.6);
    } else {
      osc.frequency.setValueAtTime(stretch ? 160 : 220, at); // a gentle low beat
      osc.frequency.exponentialRampToValueAtTime(90, at + 0.12);
      gain.gain.setValueAtTime(stretch ? 0.1 : 0.18, at);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
    }
    osc.connect(gain).connect(this.bus);
    osc.start(at);
    osc.stop(at + 0.7);
  }

  // A short rising chime: one counted repetition (small) or a celebration (big).
  chime(big = false) {
    if (!this.enabled) return;
    this.unlock();
    if (!this.ctx) return;
    const ctx = this.ctx;
    const notes = big ? [523.25, 659.25, 783.99, 1046.5] : [783.99, 1046.5];
    const step = big ? 0.12 : 0.07;
    notes.forEach((frequency, index) => {
      const at = ctx.currentTime + 0.02 + index * step;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.linearRampToValueAtTime(big ? 0.25 : 0.12, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + (big ? 0.9 : 0.35));
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 1);
    });
  }
}
