// The range gauge: where the moving joint is now (computed here, for display only: the server
// counts and measures), the level's target, and the range of the last and best repetitions.

export const POSE_INDEX = {
  nose: 0, left_shoulder: 11, right_shoulder: 12, left_elbow: 13, right_elbow: 14,
  left_wrist: 15, right_wrist: 16, left_index: 19, right_index: 20, left_hip: 23, right_hip: 24,
  left_knee: 25, right_knee: 26, left_ankle: 27, right_ankle: 28, left_heel: 29, right_heel: 30,
  left_toes: 31, right_toes: 32,
};
const HAND = {
  wrist: 0, thumb_tip: 4, index_mcp: 5, index_pip: 6, index_tip: 8, middle_mcp: 9,
  pinky_mcp: 17, pinky_tip: 20,
};
const SEEN = 0.5;

function angleAt(a, b, c) {
  const v1 = [a[0] - b[0], a[1] - b[1]];
  const v2 = [c[0] - b[0], c[1] - b[1]];
  return angleBetween(v1, v2);
}

function angleBetween(v1, v2) {
  const n = Math.hypot(...v1) * Math.hypot(...v2);
  if (!n) return null;
  const cos = Math.max(-1, Math.min(1, (v1[0] * v2[0] + v1[1] * v2[1]) / n));
  return (Math.acos(cos) * 180) / Math.PI;
}

const mid = (p, q) => [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2];

// The signal value of one frame, or null when the joints are not seen.
export function signalValue(spec, frame, aspect) {
  if (!spec || !frame) return null;
  const sides = Object.keys(spec.joints);
  let best = null;
  for (const side of sides) {
    const value = valueFor(spec, spec.joints[side], frame, aspect);
    if (value && (!best || value.seen > best.seen)) best = value;
  }
  return best ? best.value : null;
}

function valueFor(spec, names, frame, aspect) {
  const xy = (p) => [p[0] * aspect, p[1]];
  if (spec.method === "hand_distance") {
    const side = names[0].split("_hand:")[0];
    const hand = frame.hands && frame.hands[side];
    if (!hand) return null;
    const [a, b] = names.map((n) => xy(hand[HAND[n.split(":")[1]]]));
    const palm = Math.hypot(...sub(xy(hand[HAND.middle_mcp]), xy(hand[HAND.wrist])));
    return palm ? { value: Math.hypot(...sub(a, b)) / palm, seen: 1 } : null;
  }
  const pose = frame.pose;
  if (!pose) return null;
  const points = names.map((n) => pose[POSE_INDEX[n]]);
  const trunk = ["left_shoulder", "right_shoulder", "left_hip", "right_hip"].map((n) => pose[POSE_INDEX[n]]);
  if (points.some((p) => !p)) return null;
  const seen = Math.min(...points.map((p) => p[3]));
  if (seen < SEEN) return null;
  const [a, b, c] = points.map(xy);
  const [ls, rs, lh, rh] = trunk.map(xy);
  const shoulders = mid(ls, rs);
  const hips = mid(lh, rh);
  switch (spec.method) {
    case "angle3":
      return { value: angleAt(a, b, c), seen };
    case "flexion3":
      return { value: 180 - angleAt(a, b, c), seen };
    case "segment_vs_vertical":
    case "segment_vs_vertical_frontal":
    case "segment_vs_vertical_sagittal":
      return { value: angleBetween(sub(b, a), sub(hips, shoulders)), seen };
    case "trunk_lean_sagittal":
    case "trunk_lean_frontal":
      return { value: angleBetween(sub(shoulders, hips), [0, -1]), seen };
    default:
      return null;
  }
}

const sub = (p, q) => [p[0] - q[0], p[1] - q[1]];

export class Gauge {
  // el: the gauge container; item: the page data of the exercise
  constructor(el) {
    this.el = el;
    this.fill = el.querySelector(".gauge-fill");
    this.goal = el.querySelector(".gauge-goal");
    this.text = el.querySelector(".gauge-text");
    this.smoothed = null;
  }

  configure(item) {
    const ex = item.exercise;
    this.item = item;
    this.rest = ex.rest;
    this.full = ex.target;
    this.needed = Math.abs(ex.level_target - ex.rest);
    this.deg = ex.unit === "deg";
    this.best = null;
    this.last = null;
    this.smoothed = null;
    const goal = this.fraction(ex.level_target);
    this.goal.style.insetInlineStart = `${goal * 100}%`;
    this.fill.style.width = "0%";
    this.el.classList.remove("reached");
    this.words();
  }

  // fraction of the full excursion (rest -> exercise target) for a signal value
  fraction(value) {
    const span = this.full - this.rest;
    return span ? Math.max(0, Math.min(1, (value - this.rest) / span)) : 0;
  }

  live(value) {
    if (value === null || value === undefined) return;
    this.smoothed = this.smoothed === null ? value : this.smoothed * 0.6 + value * 0.4;
    const f = this.fraction(this.smoothed);
    this.fill.style.width = `${f * 100}%`;
    this.el.classList.toggle("reached", f >= this.fraction(this.item.exercise.level_target) - 1e-6);
  }

  rep(rep) {
    if (!rep || rep.rom === null || rep.rom === undefined) return;
    const rom = Math.abs(rep.rom);
    this.last = rom;
    this.best = this.best === null ? rom : Math.max(this.best, rom);
    this.words();
  }

  say(rom) {
    if (this.deg) return `${Math.round(rom)}°`;
    return `${Math.round((rom / this.needed) * 100)}% of the goal`;
  }

  words() {
    if (this.last === null) {
      this.text.textContent = this.deg ? `Goal: move ${Math.round(this.needed)}°.` : "Goal: reach the line.";
      return;
    }
    const best = this.deg ? this.say(this.best) : `${Math.round((this.best / this.needed) * 100)}%`;
    const goal = this.deg ? ` Goal: ${Math.round(this.needed)}°.` : "";
    this.text.textContent = `Last: ${this.say(this.last)}. Best: ${best}.${goal}`;
  }
}
