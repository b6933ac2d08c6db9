// Difficulty that follows the patient: a staircase that keeps success near 75-80%.
//
// Pure logic: no DOM. Difficulty is a ladder of rungs, easiest first. Each rung sets the
// "good" timing half-window, the tempo (a share of the level's tempo) and how many fingers the
// notes use. Going up the ladder first narrows the window, then speeds the music up, then adds
// a finger (thumb-middle, then thumb-ring, then thumb-little; the window opens again and the
// tempo goes back to the level's when a finger is added). Going down undoes the same steps in
// reverse: from the start the window widens (300 -> 350 -> 400 ms), then the music slows.
//
// The rule works on blocks of up to BLOCK (10) notes, counted from the last change:
// - 9 hits in the block (90%)         -> one rung harder;
// - 3 misses in the block (<= 70%)    -> one rung easier (decided at once, without waiting
//                                        for the rest of the block: its outcome is then certain);
// - 10 notes with 8 hits (80%)        -> stay, and start a new block.
// With a constant hit probability p a block goes up with P(>=9 of 10) and down with
// P(>=3 misses of 10); the two are equal near p = 0.79, so the staircase settles where the
// patient hits about 4 notes out of 5.

export const BLOCK = 10;
export const UP_AFTER_HITS = 9;
export const DOWN_AFTER_MISSES = 3;

const FINGER_ORDER = ["index", "middle", "ring", "little"];

/** The ladder of rungs, easiest first: {goodMs, tempoScale, fingers}. */
export function buildLadder() {
  const rungs = [
    { goodMs: 400, tempoScale: 0.8, fingers: 1 },
    { goodMs: 400, tempoScale: 0.9, fingers: 1 },
    { goodMs: 400, tempoScale: 1.0, fingers: 1 },
    { goodMs: 350, tempoScale: 1.0, fingers: 1 },
  ];
  for (let fingers = 1; fingers <= 4; fingers += 1) {
    const windows = fingers === 1 ? [300, 250, 210, 180, 150] : [250, 210, 180, 150];
    for (const goodMs of windows) rungs.push({ goodMs, tempoScale: 1.0, fingers });
    for (const tempoScale of [1.1, 1.2]) rungs.push({ goodMs: 150, tempoScale, fingers });
  }
  return rungs;
}

export const LADDER = buildLadder();
/** Where a new player starts: +-300 ms at the level's tempo, index finger only. */
export const START_RUNG = LADDER.findIndex((r) => r.goodMs === 300 && r.fingers === 1);

/** The fingers in play for a rung's finger count. */
export function fingersFor(count) {
  return FINGER_ORDER.slice(0, Math.max(1, Math.min(count, FINGER_ORDER.length)));
}

/** What changed between two rungs, in plain words for the screen. */
export function describeChange(from, to) {
  const a = LADDER[from];
  const b = LADDER[to];
  if (b.fingers > a.fingers) {
    return { what: "fingers", message: `New finger: thumb to ${fingersFor(b.fingers).at(-1)} finger.` };
  }
  if (b.fingers < a.fingers) {
    return { what: "fingers", message: `Back to ${b.fingers === 1 ? "one finger" : `${b.fingers} fingers`}.` };
  }
  if (b.tempoScale !== a.tempoScale) {
    return {
      what: "tempo",
      message: b.tempoScale > a.tempoScale ? "The music speeds up a little." : "The music slows down a little.",
    };
  }
  return {
    what: "window",
    message:
      b.goodMs < a.goodMs
        ? `Well done! Timing is a little stricter now (${b.goodMs} ms).`
        : `Timing is easier now (${b.goodMs} ms).`,
  };
}

export class Staircase {
  /** @param {{rung?: number}} options */
  constructor({ rung = START_RUNG } = {}) {
    this.rung = clampRung(rung);
    this.hits = 0;
    this.misses = 0;
    this.history = []; // every change: {atNote, from, to, direction, what, message}
    this.notes = 0;
  }

  /** The current rung's settings: {goodMs, tempoScale, fingers, fingerNames, rung}. */
  get settings() {
    const rung = LADDER[this.rung];
    return { ...rung, fingerNames: fingersFor(rung.fingers), rung: this.rung };
  }

  /** Notes counted in the current block. */
  get blockNotes() {
    return this.hits + this.misses;
  }

  /**
   * Count one judged note (true = hit, perfect or good). Returns the change made, if any:
   * {direction: "harder"|"easier"|"stay", from, to, what, message}, else null.
   */
  record(success) {
    this.notes += 1;
    if (success) this.hits += 1;
    else this.misses += 1;
    let direction = null;
    if (this.hits >= UP_AFTER_HITS) direction = "harder";
    else if (this.misses >= DOWN_AFTER_MISSES) direction = "easier";
    else if (this.blockNotes >= BLOCK) direction = "stay";
    if (direction === null) return null;
    this.hits = 0;
    this.misses = 0;
    const from = this.rung;
    const to = clampRung(from + (direction === "harder" ? 1 : direction === "easier" ? -1 : 0));
    this.rung = to;
    if (to === from) {
      // Top or bottom of the ladder (or "stay"): a new block starts, nothing else changes.
      return null;
    }
    const change = { direction, from, to, atNote: this.notes, ...describeChange(from, to) };
    this.history.push(change);
    return change;
  }

  toJSON() {
    return { rung: this.rung };
  }

  static fromJSON(data) {
    const rung = data && Number.isInteger(data.rung) ? data.rung : START_RUNG;
    return new Staircase({ rung });
  }
}

function clampRung(rung) {
  return Math.max(0, Math.min(LADDER.length - 1, Math.round(rung)));
}
