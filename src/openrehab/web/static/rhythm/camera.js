// The webcam as a pinch source: MediaPipe's hand landmarker runs here, in the browser, on the
// served copy of the model; the video never leaves the page. Each camera frame's capture time
// (requestVideoFrameCallback) goes to the pinch detector, so a pinch is timed by when the
// frame was taken, not by when the model finished with it.

import { SLOW_GPU_MS, firstDelegate, openCamera, stopCamera, withCpuFallback } from "../shared/camera.js";
import { PinchDetector, pickHand } from "./pinch.js";

export const VISION_BUNDLE = "/static/vendor/tasks-vision-0.10.21/vision_bundle.mjs";
export const VISION_WASM = "/static/vendor/tasks-vision-0.10.21/wasm";
export const HAND_MODEL = "/static/models/hand_landmarker-0.10.21.task";

export const CAMERA_PROBLEMS = {
  denied: "The camera is blocked for this page. You can allow it in the browser's address bar.",
  none: "No camera was found.",
  busy: "The camera is in use by another program (for example a video call).",
  insecure: "This browser only allows the camera on a secure (https) address.",
  model: "The hand tracker could not be loaded.",
  other: "The camera could not start.",
};

export class CameraPinches {
  /**
   * @param {HTMLVideoElement} video
   * @param {{side: string, onPinch: Function, onHand: Function, overlay?: HTMLCanvasElement}} options
   *   onPinch({finger, tMs, source: "camera"}); onHand(seen: boolean, apertures|null)
   */
  constructor(video, { side, onPinch, onHand, overlay }) {
    this.video = video;
    this.side = side;
    this.onPinch = onPinch;
    this.onHand = onHand;
    this.overlay = overlay;
    this.detector = new PinchDetector();
    this.running = false;
    this.landmarker = null;
    this.lastVideoTime = -1;
    this.handSeen = null;
    this.fingers = ["index"]; // the fingers drawn on the preview
    this.frames = 0; // frames the tracker has looked at
  }

  /** Start the camera and the tracker; rejects with {problem} (see CAMERA_PROBLEMS). */
  async start() {
    const size = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } };
    await openCamera(this.video, { facingMode: "user", ...size });
    try {
      this.vision = await import(VISION_BUNDLE);
      this.files = await this.vision.FilesetResolver.forVisionTasks(VISION_WASM);
      this.landmarker = await withCpuFallback((delegate) => this._create(delegate), firstDelegate());
    } catch (error) {
      this.stop();
      throw { problem: "model", error };
    }
    this.running = true;
    this._next();
  }

  async _create(delegate) {
    const landmarker = await this.vision.HandLandmarker.createFromOptions(this.files, {
      baseOptions: { modelAssetPath: HAND_MODEL, delegate },
      runningMode: "VIDEO",
      numHands: 2,
      minHandDetectionConfidence: 0.5,
      minHandPresenceConfidence: 0.5,
      minTrackingConfidence: 0.5,
    });
    this.delegate = delegate;
    this.meanMs = null;
    return landmarker;
  }

  stop() {
    this.running = false;
    stopCamera(this.video);
    this.landmarker?.close?.();
    this.landmarker = null;
  }

  _next() {
    if (!this.running) return;
    if ("requestVideoFrameCallback" in this.video) {
      this.video.requestVideoFrameCallback((now, meta) => this._frame(meta.captureTime ?? meta.expectedDisplayTime ?? now));
    } else {
      requestAnimationFrame((now) => this._frame(now));
    }
  }

  _frame(captureMs) {
    if (!this.running || !this.landmarker) return;
    const video = this.video;
    if (video.readyState >= 2 && video.currentTime !== this.lastVideoTime) {
      this.lastVideoTime = video.currentTime;
      const began = performance.now();
      const result = this.landmarker.detectForVideo(video, began);
      this.frames += 1;
      const tookMs = performance.now() - began;
      this.meanMs = this.meanMs === null ? tookMs : 0.9 * this.meanMs + 0.1 * tookMs;
      if (this.delegate === "GPU" && this.frames > 10 && this.meanMs > SLOW_GPU_MS) this._toCpu();
      const hand = pickHand(result.landmarks, result.handedness ?? result.handednesses, this.side);
      const aspect = video.videoWidth && video.videoHeight ? video.videoWidth / video.videoHeight : 4 / 3;
      for (const pinch of this.detector.update(captureMs, hand, aspect)) {
        this.onPinch({ finger: pinch.finger, tMs: pinch.tMs, source: "camera" });
      }
      const seen = hand !== null;
      if (seen !== this.handSeen) {
        this.handSeen = seen;
        this.onHand(seen);
      }
      this._draw(hand);
    }
    this._next();
  }

  _toCpu() {
    const old = this.landmarker;
    this.landmarker = null; // frames are skipped until the CPU tracker is ready
    this.delegate = "CPU";
    this._create("CPU")
      .then((landmarker) => {
        this.landmarker = landmarker;
        old?.close?.();
        this._next();
      })
      .catch(() => {
        this.landmarker = old;
        this._next();
      });
  }

  _draw(hand) {
    const canvas = this.overlay;
    if (!canvas) return;
    const context = canvas.getContext("2d");
    canvas.width = canvas.clientWidth;
    canvas.height = canvas.clientHeight;
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (!hand) return;
    const style = getComputedStyle(canvas);
    const x = (p) => (1 - p.x) * canvas.width; // the preview is mirrored, like a mirror
    const y = (p) => p.y * canvas.height;
    const thumb = hand[4];
    const tips = { index: 8, middle: 12, ring: 16, little: 20 };
    for (const finger of this.fingers) {
      const tip = hand[tips[finger]];
      const closed = this.detector.state[finger] === "closed";
      context.strokeStyle = style.getPropertyValue(`--lane-${finger}`) || "#0b5cad";
      context.lineWidth = closed ? 6 : 3;
      context.beginPath();
      context.moveTo(x(thumb), y(thumb));
      context.lineTo(x(tip), y(tip));
      context.stroke();
    }
  }
}
