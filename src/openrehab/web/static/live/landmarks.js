// MediaPipe Tasks (vendored, served by this app) on the camera: body pose or hands.
// Only landmarks leave this module. The video is not mirrored here: the page mirrors it with
// CSS for the person, but the landmarks stay in the camera's own coordinates.

import { SLOW_GPU_MS, firstDelegate, withCpuFallback } from "../shared/camera.js";

const SLOW_MS = 40; // slower than this per frame on average: use the lighter pose model
const round = (v) => Math.round(v * 10000) / 10000;

export function isHandheld() {
  if (navigator.userAgentData && navigator.userAgentData.mobile) return true;
  const coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  return coarse || /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent);
}

export class Tracker {
  // sensor: "pose" or "hand"
  constructor(vision, sensor) {
    this.vision = vision;
    this.sensor = sensor;
    this.landmarker = null;
    this.model = null;
    this.delegate = null;
    this.lastMs = 0;
    this.meanMs = 0;
    this.frames = 0;
    this.switching = false;
  }

  async load() {
    const tasks = await import(this.vision.bundle);
    this.tasks = tasks;
    this.fileset = await tasks.FilesetResolver.forVisionTasks(this.vision.wasm);
    const model = this.sensor === "hand" ? "hand" : isHandheld() ? "pose_lite" : "pose_full";
    this.landmarker = await this.create(model, firstDelegate());
  }

  // A landmarker for `model` on the GPU if it can (else the CPU).
  async create(model, delegate = "GPU") {
    const { PoseLandmarker, HandLandmarker } = this.tasks;
    const Kind = this.sensor === "hand" ? HandLandmarker : PoseLandmarker;
    const options = (use) => ({
      baseOptions: { modelAssetPath: this.vision[model], delegate: use },
      runningMode: "VIDEO",
      ...(this.sensor === "hand"
        ? { numHands: 2, minHandDetectionConfidence: 0.5 }
        : { numPoses: 1, minPoseDetectionConfidence: 0.5 }),
    });
    const landmarker = await withCpuFallback(async (use) => {
      const made = await Kind.createFromOptions(this.fileset, options(use));
      this.delegate = use;
      return made;
    }, delegate);
    this.model = model;
    return landmarker;
  }

  // Landmarks of the current video frame: {pose, hands} in the protocol's shapes.
  detect(video) {
    if (!this.landmarker) return null;
    let now = performance.now();
    if (now <= this.lastMs) now = this.lastMs + 0.01;
    this.lastMs = now;
    const result = this.landmarker.detectForVideo(video, now);
    this.measure(performance.now() - now);
    return this.sensor === "hand" ? { pose: null, hands: hands(result) } : { pose: pose(result), hands: null };
  }

  // Too slow on this device? A GPU that is really a software renderer: use the CPU. The full
  // pose model slower than ~40 ms a frame: use the lite one. The old one runs meanwhile.
  measure(ms) {
    this.frames += 1;
    if (this.frames <= 2) return; // the first frames include the warm-up
    this.meanMs = this.meanMs ? this.meanMs * 0.8 + ms * 0.2 : ms;
    if (this.switching || this.frames < 6) return;
    if (this.delegate === "GPU" && this.meanMs > SLOW_GPU_MS) this.replace(this.model, "CPU");
    else if (this.model === "pose_full" && this.meanMs > SLOW_MS) this.replace("pose_lite", this.delegate);
  }

  replace(model, delegate) {
    this.switching = true;
    this.create(model, delegate)
      .then((next) => {
        const old = this.landmarker;
        this.landmarker = next;
        this.lastMs = 0;
        this.frames = 0;
        this.meanMs = 0;
        old.close();
      })
      .catch(() => {})
      .finally(() => {
        this.switching = false;
      });
  }

  close() {
    if (this.landmarker) this.landmarker.close();
    this.landmarker = null;
  }
}

function pose(result) {
  const found = result.landmarks && result.landmarks[0];
  if (!found) return null;
  return found.map((p) => [round(p.x), round(p.y), round(p.z), round(p.visibility ?? 1)]);
}

// MediaPipe labels hands as if the image were a mirrored selfie. The frames here are not
// mirrored, so its "Left" is the person's right hand and the other way round.
function hands(result) {
  const labels = result.handedness || result.handednesses || [];
  const best = {};
  (result.landmarks || []).forEach((points, index) => {
    const category = labels[index] && labels[index][0];
    if (!category) return;
    const side = category.categoryName === "Left" ? "right" : "left";
    if (best[side] && best[side].score >= category.score) return;
    best[side] = { score: category.score, points: points.map((p) => [round(p.x), round(p.y), round(p.z)]) };
  });
  if (!best.left && !best.right) return null;
  return { left: best.left ? best.left.points : null, right: best.right ? best.right.points : null };
}

// Call onFrame() once per new video frame until the returned stop() is called.
export function everyVideoFrame(video, onFrame) {
  let running = true;
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const step = () => {
      if (!running) return;
      safely(onFrame);
      video.requestVideoFrameCallback(step);
    };
    video.requestVideoFrameCallback(step);
  } else {
    let lastTime = -1;
    const step = () => {
      if (!running) return;
      if (video.currentTime !== lastTime) {
        lastTime = video.currentTime;
        safely(onFrame);
      }
      window.requestAnimationFrame(step);
    };
    window.requestAnimationFrame(step);
  }
  return () => {
    running = false;
  };
}

function safely(fn) {
  try {
    fn();
  } catch (error) {
    console.error(error); // one bad frame must not stop the loop
  }
}
