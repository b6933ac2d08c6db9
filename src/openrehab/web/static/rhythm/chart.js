// The song: beats, chords and the notes to pinch, made a little ahead of time (pure: no audio).
//
// The music is a four-bar loop in C major, I - V - vi - IV (C, G, Am, F), four beats a bar.
// After a count-in, a note falls on every other beat (beats 1 and 3 of each bar): a pinch on
// the beat, the hand opens again on the next. Each note carries a melody pitch (a chord tone,
// so a hit always sounds right) and the finger to pinch. The tempo and the fingers in play can
// change while the song runs (the staircase in adapt.js decides); a change applies from the
// next beat made, so the music never jumps.

export const CHORDS = [
  { name: "C", root: 48, triad: [60, 64, 67] },
  { name: "G", root: 43, triad: [59, 62, 67] },
  { name: "Am", root: 45, triad: [60, 64, 69] },
  { name: "F", root: 41, triad: [60, 65, 69] },
];
// Two melody notes a bar (MIDI numbers), chord tones with a gentle contour.
export const MELODY = [
  [76, 79],
  [74, 71],
  [72, 76],
  [69, 72],
];
export const BEATS_PER_BAR = 4;

/** Small seeded random numbers (mulberry32), so a song can be replayed exactly. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function midiToHz(midi) {
  return 440 * 2 ** ((midi - 69) / 12);
}

export class Conductor {
  /**
   * @param {{tempoBpm: number, notes: number, startTime: number, leadInBeats?: number,
   *          beatsPerNote?: number, seed?: number}} options
   *   startTime: audio time of the first beat (s); notes: how many notes the song has.
   */
  constructor({ tempoBpm, notes, startTime, leadInBeats = 4, beatsPerNote = 2, seed = 1 }) {
    this.baseTempo = tempoBpm;
    this.tempoScale = 1;
    this.totalNotes = notes;
    this.leadInBeats = leadInBeats;
    this.beatsPerNote = beatsPerNote;
    this.rand = random(seed);
    this.fingers = ["index"];
    this.nextBeat = 0; // index of the next beat to make
    this.nextBeatTime = startTime;
    this.notesMade = 0;
    this.lastFingers = [];
    this.lastNoteTime = null;
  }

  get tempoBpm() {
    return this.baseTempo * this.tempoScale;
  }

  get beatS() {
    return 60 / this.tempoBpm;
  }

  /** Change the tempo (share of the level's tempo) and the fingers, from the next beat on. */
  setDifficulty({ tempoScale, fingerNames }) {
    if (tempoScale) this.tempoScale = tempoScale;
    if (fingerNames?.length) this.fingers = [...fingerNames];
  }

  /** Whether every note has been made. */
  get done() {
    return this.notesMade >= this.totalNotes;
  }

  /**
   * Make every beat that starts before audio time ``until`` (s). Returns {beats, notes}:
   * beats [{t, index, bar, beatInBar, chord, last}], notes [{id, t, finger, pitch, gapS}].
   * After the last note, one more bar closes the song (its last beat has last: true).
   */
  advance(until) {
    const beats = [];
    const notes = [];
    while (this.nextBeatTime < until && !this.finished) {
      const index = this.nextBeat;
      const bar = Math.floor(index / BEATS_PER_BAR);
      const beatInBar = index % BEATS_PER_BAR;
      const chord = CHORDS[bar % CHORDS.length];
      const t = this.nextBeatTime;
      const beat = { t, index, bar, beatInBar, chord, beatS: this.beatS, last: false };
      const songBeat = index - this.leadInBeats;
      if (songBeat >= 0 && songBeat % this.beatsPerNote === 0 && !this.done) {
        const slot = Math.floor(beatInBar / (BEATS_PER_BAR / MELODY[0].length));
        const note = {
          id: this.notesMade,
          t,
          finger: this._finger(),
          pitch: MELODY[bar % MELODY.length][slot] ?? MELODY[0][0],
          gapS: this.beatS * this.beatsPerNote,
        };
        this.notesMade += 1;
        this.lastNoteTime = t;
        notes.push(note);
        beat.note = note.id;
      }
      if (this.done && this.endBeat === undefined) {
        // Close with the rest of this bar and one more bar after the last note.
        this.endBeat = (Math.floor(index / BEATS_PER_BAR) + 2) * BEATS_PER_BAR - 1;
      }
      if (this.endBeat !== undefined && index >= this.endBeat) {
        beat.last = true;
        this.finished = true;
        this.endTime = t + this.beatS;
      }
      beats.push(beat);
      this.nextBeat += 1;
      this.nextBeatTime = t + this.beatS;
    }
    return { beats, notes };
  }

  _finger() {
    const choices = this.fingers;
    if (choices.length === 1) return choices[0];
    // Random, but never the same finger three times running, and the newest finger often.
    let finger;
    for (let tries = 0; tries < 10; tries += 1) {
      finger = this.rand() < 0.35 ? choices.at(-1) : choices[Math.floor(this.rand() * choices.length)];
      const [a, b] = this.lastFingers.slice(-2);
      if (!(a === finger && b === finger)) break;
    }
    this.lastFingers.push(finger);
    return finger;
  }
}
