// The stretch angle of one joint from three pose landmarks (MediaPipe's 33-point body), in
// the picture's plane (a side view): only x and y are used, scaled to pixels so a wide
// picture does not skew the angle. Every angle here RISES as the muscle is stretched
// (docs/care.md, "Measuring the catch angle in the app"):
//
//   elbow (elbow flexors):  shoulder-elbow-wrist angle, 180 = straight (rises as it straightens)
//   knee (hamstrings):      hip-knee-ankle angle, 180 = straight
//   ankle (calf muscles):   dorsiflexion = 90 - (knee-ankle-toe angle): 0 about a right angle,
//                           rising as the toes come up toward the shin
//   wrist (wrist flexors):  extension = the bend of elbow-wrist-index finger from straight,
//                           signed so that the start of the stretch (wrist bent down) is
//                           negative: 0 = straight, rising as the hand bends back

// MediaPipe pose landmark indices: [left, right].
const IDX = {
  shoulder: [11, 12],
  elbow: [13, 14],
  wrist: [15, 16],
  index: [19, 20],
  hip: [23, 24],
  knee: [25, 26],
  ankle: [27, 28],
  toe: [31, 32],
};

export const JOINT_POINTS = {
  elbow: ["shoulder", "elbow", "wrist"],
  knee: ["hip", "knee", "ankle"],
  ankle: ["knee", "ankle", "toe"],
  wrist: ["elbow", "wrist", "index"],
};

export const MIN_VISIBILITY = 0.5;
const DEG = 180 / Math.PI;

// The interior angle at b (deg, 0..180) of the points a-b-c ([x, y] in pixels).
export function interiorAngle(a, b, c) {
  const u = [a[0] - b[0], a[1] - b[1]];
  const v = [c[0] - b[0], c[1] - b[1]];
  const dot = u[0] * v[0] + u[1] * v[1];
  const cross = u[0] * v[1] - u[1] * v[0];
  return Math.abs(Math.atan2(cross, dot)) * DEG;
}

// How far c bends away from the line a-b continued through b (deg, -180..180, signed by the
// turning direction in the picture).
export function signedBend(a, b, c) {
  const u = [b[0] - a[0], b[1] - a[1]];
  const v = [c[0] - b[0], c[1] - b[1]];
  const dot = u[0] * v[0] + u[1] * v[1];
  const cross = u[0] * v[1] - u[1] * v[0];
  return Math.atan2(cross, dot) * DEG;
}

// The three landmarks of `joint` on `side` in pixels, or null when one is not seen well.
export function jointPoints(pose, joint, side, width, height) {
  if (!pose) return null;
  const k = side === "right" ? 1 : 0;
  const points = [];
  for (const name of JOINT_POINTS[joint]) {
    const p = pose[IDX[name][k]];
    if (!p || (p.length > 3 && p[3] < MIN_VISIBILITY)) return null;
    points.push([p[0] * width, p[1] * height]);
  }
  return points;
}

// The stretch angle (deg) from three pixel points. `sign` (wrist only, +1 or -1) is the
// orientation chosen at the start of a recording (orientationAt).
export function stretchAngle(joint, points, sign = 1) {
  const [a, b, c] = points;
  if (joint === "ankle") return 90 - interiorAngle(a, b, c);
  if (joint === "wrist") return sign * signedBend(a, b, c);
  return interiorAngle(a, b, c);
}

// The wrist's sign so that its start position (bent down, at the start of the stretch) is
// negative; `previous` is kept when the wrist starts too near straight to tell.
export function orientationAt(joint, points, previous = 1) {
  if (joint !== "wrist" || !points) return previous;
  const bend = signedBend(...points);
  if (Math.abs(bend) < 10) return previous;
  return bend > 0 ? -1 : 1;
}

// The stretch angle of a whole pose frame, or null.
export function poseAngle(pose, joint, side, width, height, sign = 1) {
  const points = jointPoints(pose, joint, side, width, height);
  return points ? stretchAngle(joint, points, sign) : null;
}
