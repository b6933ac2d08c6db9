// Judging pinches against notes, in milliseconds on the audio clock (never in pixels).
//
// Pure logic: no DOM, no Web Audio. Every time here is in SECONDS on the "heard" audio clock:
// the AudioContext time of the sound the patient hears at that moment (clock.js converts a
// key press's or a camera frame's performance.now() time to it).
//
// A note is judged once:
// - the first pinch of its finger within +-goodMs is a hit: "perfect" within +-perfectMs,
//   else "good";
// - a pinch later than goodMs but inside the capture zone (goodMs + CAPTURE_EXTRA_MS, never
//   more than half the gap to the neighbouring note) is a "miss" with its timing error, so the
//   patient can be told "a little late";
// - when the capture zone has passed without a hit, the note is a "miss" whose error is that of
//   the nearest early pinch outside the window, or null when there was no pinch at all.
// An early pinch outside the window does not use the note up: a second, better-timed pinch can
// still hit it. A pinch that is near no note of its finger is "extra" (counted, not judged).

export const FINGERS = ["index", "middle", "ring", "little"];
export const CAPTURE_EXTRA_MS = 250;
export const MIN_PERFECT_MS = 50;
export const PERFECT_SHARE = 0.4;

/** The "perfect" half-window for a "good" half-window: 40% of it, at least 50 ms. */
export function perfectWindowMs(goodMs) {
  return Math.max(MIN_PERFECT_MS, Math.round(goodMs * PERFECT_SHARE));
}

/** Points for a judgement given the streak it makes (1 for the first hit in a row). */
export function points(judgement, streak) {
  if (judgement === "miss") return 0;
  const base = judgement === "perfect" ? 100 : 50;
  return base + 10 * Math.min(Math.max(streak - 1, 0), 10);
}

export class Judge {
  /**
   * @param {{goodMs?: number, perfectMs?: number, captureExtraMs?: number}} options
   */
  constructor({ goodMs = 300, perfectMs, captureExtraMs = CAPTURE_EXTRA_MS } = {}) {
    this.captureExtraMs = captureExtraMs;
    this.setWindow(goodMs, perfectMs);
    /** Notes not judged yet, in time order: {id, t, finger, ...}. */
    this.pending = [];
    this.extra = 0;
  }

  /** Change the windows (applies to every note not judged yet). */
  setWindow(goodMs, perfectMs) {
    this.goodMs = goodMs;
    this.perfectMs = Math.min(perfectMs ?? perfectWindowMs(goodMs), goodMs);
  }

  /** Add a note: {id, t (s), finger, gapS?}; other fields are kept and passed back in results. */
  addNote(note) {
    const entry = { ...note, early: null };
    this.pending.push(entry);
    this.pending.sort((a, b) => a.t - b.t);
    return entry;
  }

  /** Half-width of the capture zone of ``note`` in ms (see the header). */
  captureMs(note) {
    // gapS: the time to the neighbouring notes, given by whoever made the note.
    const index = this.pending.indexOf(note);
    let gapS = note.gapS ?? Infinity;
    for (const other of [this.pending[index - 1], this.pending[index + 1]]) {
      if (other) gapS = Math.min(gapS, Math.abs(other.t - note.t));
    }
    const wanted = this.goodMs + this.captureExtraMs;
    return Math.max(this.goodMs, Math.min(wanted, (gapS * 1000) / 2));
  }

  /** The finger of the note a "whatever finger" pinch (Space key) is meant for at ``t``. */
  fingerNear(t) {
    let best = null;
    for (const note of this.pending) {
      if (best === null || Math.abs(note.t - t) < Math.abs(best.t - t)) best = note;
    }
    return best ? best.finger : FINGERS[0];
  }

  /**
   * A pinch of ``finger`` at audio time ``t`` (s). Returns the judged result, or
   * {judgement: null, extra: true} / {judgement: null, early: true} when nothing was judged.
   */
  pinch(t, finger) {
    let best = null;
    let bestError = Infinity;
    for (const note of this.pending) {
      if (note.finger !== finger) continue;
      const errorMs = (t - note.t) * 1000;
      if (Math.abs(errorMs) <= this.captureMs(note) && Math.abs(errorMs) < Math.abs(bestError)) {
        best = note;
        bestError = errorMs;
      }
    }
    if (best === null) {
      this.extra += 1;
      return { judgement: null, extra: true };
    }
    if (Math.abs(bestError) <= this.goodMs) {
      const judgement = Math.abs(bestError) <= this.perfectMs ? "perfect" : "good";
      return this._judge(best, t, bestError, judgement);
    }
    if (bestError > 0) return this._judge(best, t, bestError, "miss"); // too late: no better pinch can come
    // Too early: remember it (for "a little early"), keep the note open for a better pinch.
    if (best.early === null || Math.abs(bestError) < Math.abs(best.early)) best.early = bestError;
    return { judgement: null, early: true, error_ms: round1(bestError), note: best };
  }

  /** Notes whose capture zone has ended by audio time ``now`` (s), judged as misses. */
  expire(now) {
    const results = [];
    for (const note of [...this.pending]) {
      const endS = note.t + this.captureMs(note) / 1000;
      if (now > endS) results.push(this._judge(note, endS, note.early, "miss"));
    }
    return results;
  }

  _judge(note, t, errorMs, judgement) {
    this.pending.splice(this.pending.indexOf(note), 1);
    const { early, ...rest } = note;
    return {
      ...rest,
      note_t: note.t,
      t,
      error_ms: errorMs === null || errorMs === undefined ? null : round1(errorMs),
      judgement,
      good_ms: this.goodMs,
      perfect_ms: this.perfectMs,
    };
  }
}

function round1(value) {
  return Math.round(value * 10) / 10;
}

/** Running score, streak, accuracy and timing error of a song (pure). */
export class Scoreboard {
  constructor() {
    this.score = 0;
    this.streak = 0;
    this.bestStreak = 0;
    this.counts = { perfect: 0, good: 0, miss: 0 };
    this.errors = []; // error_ms of every judged note that had a pinch
  }

  get judged() {
    return this.counts.perfect + this.counts.good + this.counts.miss;
  }

  /** Share of judged notes hit (perfect or good), 0..1; null before the first note. */
  get accuracy() {
    return this.judged ? (this.counts.perfect + this.counts.good) / this.judged : null;
  }

  get meanAbsErrorMs() {
    if (!this.errors.length) return null;
    return this.errors.reduce((sum, e) => sum + Math.abs(e), 0) / this.errors.length;
  }

  /** Mean signed error: positive = late, negative = early. */
  get meanErrorMs() {
    if (!this.errors.length) return null;
    return this.errors.reduce((sum, e) => sum + e, 0) / this.errors.length;
  }

  /** Record a judged result; returns the points it earned. */
  add(result) {
    this.counts[result.judgement] += 1;
    if (result.error_ms !== null && result.error_ms !== undefined) this.errors.push(result.error_ms);
    if (result.judgement === "miss") {
      this.streak = 0;
      return 0;
    }
    this.streak += 1;
    this.bestStreak = Math.max(this.bestStreak, this.streak);
    const earned = points(result.judgement, this.streak);
    this.score += earned;
    return earned;
  }

  /** The ``end_set`` summary (flat: numbers and short text only, as the protocol asks). */
  summary(extra = {}) {
    const round = (v, digits = 1) => (v === null ? null : Number(v.toFixed(digits)));
    const out = {
      score: this.score,
      best_streak: this.bestStreak,
      accuracy: this.accuracy === null ? 0 : round(this.accuracy, 3),
      mean_abs_error_ms: round(this.meanAbsErrorMs),
      mean_error_ms: round(this.meanErrorMs),
      notes: this.judged,
      perfect: this.counts.perfect,
      good: this.counts.good,
      miss: this.counts.miss,
      ...extra,
    };
    // The protocol accepts numbers, flags and short text: leave out what is unknown.
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== null && v !== undefined));
  }
}
