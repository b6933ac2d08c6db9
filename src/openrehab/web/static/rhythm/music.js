// The music, synthesised with Web Audio (no sound files): a soft bass, a chord pad, a quiet
// tick on every beat, and the melody note of each note the patient hits.

import { midiToHz } from "./chart.js";

export class Synth {
  /** @param {AudioContext} audio */
  constructor(audio) {
    this.audio = audio;
    this.master = audio.createGain();
    this.master.gain.value = 0.7;
    // A gentle low-pass keeps every voice warm rather than buzzy.
    this.tone = audio.createBiquadFilter();
    this.tone.type = "lowpass";
    this.tone.frequency.value = 2600;
    this.tone.connect(this.master).connect(audio.destination);
    this.voices = new Set();
  }

  _voice(type, hz, at, length, peak, attack = 0.01) {
    const oscillator = this.audio.createOscillator();
    const gain = this.audio.createGain();
    oscillator.type = type;
    oscillator.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(peak, at + attack);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
    oscillator.connect(gain).connect(this.tone);
    oscillator.start(at);
    oscillator.stop(at + length + 0.05);
    this.voices.add(oscillator);
    oscillator.onended = () => this.voices.delete(oscillator);
  }

  /** Play one beat of the song (from chart.js) at its audio time. */
  beat(beat) {
    const { t, beatInBar, chord, beatS } = beat;
    if (beatInBar === 0) {
      for (const midi of chord.triad) this._voice("triangle", midiToHz(midi), t, beatS * 3.6, 0.05, 0.08);
    }
    if (beatInBar === 0 || beatInBar === 2) {
      this._voice("sine", midiToHz(chord.root), t, beatS * 1.6, 0.3, 0.01);
      this._voice("triangle", midiToHz(chord.root), t, beatS * 0.5, 0.08, 0.005);
    }
    // A short tick marks every beat; a little louder where a note falls.
    this._voice("square", beat.note !== undefined ? 1760 : 1320, t, 0.04, beat.note !== undefined ? 0.05 : 0.025, 0.002);
    if (beat.last) this._voice("sine", midiToHz(chord.root + 12), t + beatS, beatS * 3, 0.2, 0.02);
  }

  /** The melody note of a hit, now. */
  melody(midi, perfect) {
    const at = this.audio.currentTime + 0.005;
    this._voice("sine", midiToHz(midi), at, 0.6, perfect ? 0.28 : 0.2, 0.008);
    this._voice("triangle", midiToHz(midi + 12), at, 0.25, 0.04, 0.008);
  }

  /** Silence everything already scheduled. */
  stop() {
    const now = this.audio.currentTime;
    this.master.gain.cancelScheduledValues(now);
    this.master.gain.setValueAtTime(this.master.gain.value, now);
    this.master.gain.linearRampToValueAtTime(0, now + 0.1);
    for (const voice of this.voices) {
      try {
        voice.stop(now + 0.12);
      } catch {
        // already stopped
      }
    }
  }
}
