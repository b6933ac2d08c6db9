// One clock for sound, key presses and camera frames (pure: no DOM; the AudioContext is passed in).
//
// Notes are timed on the AudioContext clock. What counts is when the patient HEARS a sound: a
// sound scheduled at context time T leaves the speaker at about T + baseLatency + outputLatency.
// Key presses (event.timeStamp) and camera frames (requestVideoFrameCallback's captureTime)
// are on the performance.now() clock. ClockModel maps between the two:
//
//   heard(perfMs) = the context time of the sound coming out of the speaker at perfMs
//
// from samples of both clocks: AudioContext.getOutputTimestamp() when the browser gives a
// plausible one (it already says which context time is being played at which performance
// time, latency included), else currentTime at performance.now() minus baseLatency +
// outputLatency. The offset between the clocks is smoothed (currentTime moves in steps of one
// render quantum, 128 samples), and re-locked when it jumps (device change, suspended context).

export const SMOOTHING = 0.05; // weight of a new sample in the running offset
export const RELOCK_S = 0.05; // a jump larger than this is taken at once

/** One sample of both clocks: {contextTime (s), performanceTime (ms), latency (s)}. */
export function readClocks(audio, perfNowMs) {
  if (typeof audio.getOutputTimestamp === "function") {
    const stamp = audio.getOutputTimestamp();
    const lagS = audio.currentTime - (stamp?.contextTime ?? -1);
    if (
      stamp &&
      stamp.contextTime > 0 &&
      stamp.performanceTime > 0 &&
      lagS >= 0 &&
      lagS < 0.5 &&
      Math.abs(perfNowMs - stamp.performanceTime) < 500
    ) {
      return { contextTime: stamp.contextTime, performanceTime: stamp.performanceTime, latency: 0, kind: "output" };
    }
  }
  const latency = (audio.baseLatency || 0) + (audio.outputLatency || 0);
  return { contextTime: audio.currentTime, performanceTime: perfNowMs, latency, kind: "current" };
}

export class ClockModel {
  constructor() {
    this.offsetS = null; // heard context time - performance time (s)
    this.latencyS = 0;
    this.kind = null;
  }

  /** Add a sample from readClocks(). */
  update(sample) {
    const offset = sample.contextTime - sample.performanceTime / 1000 - sample.latency;
    this.latencyS = sample.latency;
    if (this.offsetS === null || this.kind !== sample.kind || Math.abs(offset - this.offsetS) > RELOCK_S) {
      this.offsetS = offset;
      this.kind = sample.kind;
    } else {
      this.offsetS += SMOOTHING * (offset - this.offsetS);
    }
  }

  get ready() {
    return this.offsetS !== null;
  }

  /** The heard audio time (s) at performance time ``perfMs``. */
  heard(perfMs) {
    return perfMs / 1000 + this.offsetS;
  }

  /** The performance time (ms) at which audio time ``audioS`` is heard. */
  perfAt(audioS) {
    return (audioS - this.offsetS) * 1000;
  }
}
