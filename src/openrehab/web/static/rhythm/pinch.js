// Pinch detection from MediaPipe hand landmarks, with hysteresis (pure: no DOM, no camera).
//
// For each finger the "aperture" is the thumb-tip to finger-tip distance divided by the hand's
// size (wrist to middle-finger knuckle, landmarks 0 and 9), so it does not change with the
// distance to the camera. Image landmarks are normalised to the image width and height; they
// are put back into one scale (x, y / aspect, z; MediaPipe's z is on the scale of x) before
// distances are taken.
//
// Thresholds, from the MediaPipe hand model's geometry (wrist -> middle knuckle is about
// 9 cm on an adult hand, the finger-tip landmarks sit at the nail end of the finger) and its
// output on two photos of an open adult hand (hand_landmarker-0.10.21.task, 640x480):
// - open hand, measured:                index 0.89-0.93, middle 1.21-1.29, ring 1.30-1.39,
//                                       little 1.35-1.57 (z changes these by < 0.01);
// - tips touching, pad to pad:          about 0.10-0.20 (geometry: 1-2 cm between the tip
//                                       landmarks; still to be checked on webcam pinches);
// - CLOSE below 0.25 (about 2 cm between the tip landmarks): a pinch starts;
// - OPEN above 0.40 (about 3.5 cm): the hand has let go; only then can the next pinch count.
// The 0.15 gap is the hysteresis: landmark jitter (about 0.02-0.05 of hand size frame to frame)
// never makes one pinch count twice, and a small opening (hard with finger-flexor spasticity)
// is enough between pinches. Ring and little fingers get 0.05 more on both thresholds: the
// thumb reaches them less far (opposition), and their tips sit further from the thumb pad.
// A finger counts only after it has been seen open, so a hand that enters the picture already
// pinched does not count, and losing the hand resets every finger to "not seen".

export const LANDMARK = { wrist: 0, thumbTip: 4, middleMcp: 9 };
export const TIP = { index: 8, middle: 12, ring: 16, little: 20 };
export const THRESHOLDS = {
  index: { close: 0.25, open: 0.4 },
  middle: { close: 0.25, open: 0.4 },
  ring: { close: 0.3, open: 0.45 },
  little: { close: 0.3, open: 0.45 },
};

function point(landmark, aspect) {
  // Accepts [x, y, z] or {x, y, z}.
  const [x, y, z] = Array.isArray(landmark) ? landmark : [landmark.x, landmark.y, landmark.z];
  return [x, y / aspect, z ?? 0];
}

function distance(a, b) {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/**
 * Apertures of every finger for one hand (21 landmarks), or null when the hand is too small
 * to measure. ``aspect`` is the image width divided by its height.
 */
export function apertures(landmarks, aspect = 4 / 3) {
  if (!landmarks || landmarks.length < 21) return null;
  const p = (i) => point(landmarks[i], aspect);
  const size = distance(p(LANDMARK.wrist), p(LANDMARK.middleMcp));
  if (!(size > 1e-4)) return null;
  const thumb = p(LANDMARK.thumbTip);
  const out = {};
  for (const [finger, index] of Object.entries(TIP)) out[finger] = distance(thumb, p(index)) / size;
  return out;
}

export class PinchDetector {
  /** @param {{thresholds?: object}} options */
  constructor({ thresholds = THRESHOLDS } = {}) {
    this.thresholds = thresholds;
    this.reset();
  }

  /** Forget every finger's state (hand lost). */
  reset() {
    this.state = Object.fromEntries(Object.keys(TIP).map((f) => [f, "unseen"]));
    this.last = null; // {tMs, apertures}
  }

  /**
   * One frame: ``tMs`` the frame's capture time (performance.now() clock, ms), ``landmarks``
   * the hand's 21 image landmarks (or null when no hand is seen). Returns the pinches that
   * STARTED in this frame: [{finger, tMs, aperture}], where tMs is interpolated to the moment
   * the aperture crossed the close threshold between the previous frame and this one.
   */
  update(tMs, landmarks, aspect = 4 / 3) {
    const now = apertures(landmarks, aspect);
    if (now === null) {
      this.reset();
      return [];
    }
    const events = [];
    for (const finger of Object.keys(TIP)) {
      const { close, open } = this.thresholds[finger];
      const value = now[finger];
      const state = this.state[finger];
      if (state === "closed") {
        if (value > open) this.state[finger] = "open";
      } else if (state === "open") {
        if (value < close) {
          this.state[finger] = "closed";
          events.push({ finger, tMs: this._crossing(finger, tMs, value, close), aperture: value });
        }
      } else if (value > open) {
        this.state[finger] = "open"; // "unseen": wait for an open hand first
      }
    }
    this.last = { tMs, apertures: now };
    return events;
  }

  _crossing(finger, tMs, value, close) {
    const before = this.last?.apertures?.[finger];
    if (before === undefined || before <= value || tMs <= this.last.tMs) return tMs;
    const share = Math.min(1, Math.max(0, (before - close) / (before - value)));
    return this.last.tMs + share * (tMs - this.last.tMs);
  }
}

/**
 * The patient's hand among MediaPipe's results. MediaPipe labels handedness as if the image were
 * mirrored (a selfie); camera frames are not, so its "Left" is the person's right hand.
 * Returns the landmarks of the hand on ``side`` ("left"/"right"), else of the only hand seen.
 */
export function pickHand(landmarksList, handednesses, side) {
  if (!landmarksList || landmarksList.length === 0) return null;
  for (let i = 0; i < landmarksList.length; i += 1) {
    const label = handednesses?.[i]?.[0]?.categoryName;
    const person = label === "Left" ? "right" : label === "Right" ? "left" : null;
    if (person === side) return landmarksList[i];
  }
  return landmarksList.length === 1 ? landmarksList[0] : null;
}
