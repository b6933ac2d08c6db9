// Where the landmark frames come from: the camera (MediaPipe in this page) or the demo stream.
// Either way each frame is drawn over the (mirrored) picture and handed to onFrame().

import { startCamera, stopCamera } from "./camera.js";
import { loadDemo, playDemo } from "./demo.js";
import { POSE_INDEX } from "./gauge.js";
import { everyVideoFrame, Tracker } from "./landmarks.js";

export class Sensing {
  constructor({ video, overlay, mirror, vision, onFrame }) {
    this.video = video;
    this.overlay = overlay;
    this.mirror = mirror;
    this.vision = vision;
    this.onFrame = onFrame;
    this.cameraOn = false;
    this.tracker = null;
    this.stopLoop = null;
    this.demo = null;
    this.paused = false;
    this.aspect = 16 / 9;
    this.frames = 0;
  }

  // Ask for the camera (rejects with {problem} when it cannot be used).
  async camera() {
    if (!this.cameraOn) {
      await startCamera(this.video);
      this.cameraOn = true;
    }
    const { videoWidth: width, videoHeight: height } = this.video;
    this.frame(width / height || 16 / 9, width || 1280, height || 720, false);
    this.video.hidden = false;
  }

  // Load the landmarker for "pose" or "hand" (once) and run it on every video frame.
  async track(sensor) {
    if (!this.tracker || this.tracker.sensor !== sensor) {
      if (this.tracker) this.tracker.close();
      this.tracker = null;
      const tracker = new Tracker(this.vision, sensor);
      await tracker.load();
      this.tracker = tracker;
    }
    this.stopFrames();
    this.stopLoop = everyVideoFrame(this.video, () => {
      if (this.paused || !this.tracker) return;
      const frame = this.tracker.detect(this.video);
      if (frame) this.emit(frame);
    });
  }

  async demoStream(url, side) {
    const stream = await loadDemo(url, side);
    this.stop({ keepCamera: false });
    const aspect = stream.aspect || 16 / 9;
    this.frame(aspect, 1280, Math.round(1280 / aspect), true);
    this.video.hidden = true;
    this.demoFps = stream.fps || 30;
    this.demo = playDemo(stream, (frame) => this.emit(frame));
  }

  // Frames per second the socket will see (the engine's nominal sample rate).
  get fps() {
    let fps = this.demoFps || 30;
    if (!this.demo && this.cameraOn) {
      const track = this.video.srcObject && this.video.srcObject.getVideoTracks()[0];
      fps = (track && track.getSettings().frameRate) || 30;
      if (this.tracker && this.tracker.meanMs > 0) fps = Math.min(fps, 1000 / this.tracker.meanMs);
    }
    return Math.round(Math.max(5, Math.min(120, fps)));
  }

  frame(aspect, width, height, backdrop) {
    this.aspect = aspect;
    this.overlay.size(width, height);
    this.overlay.background = backdrop;
    this.mirror.style.setProperty("--aspect", String(aspect));
  }

  // Mark the joints the exercise measures.
  highlight(gaugeSpec) {
    const names = gaugeSpec ? Object.values(gaugeSpec.joints).flat() : [];
    this.overlay.highlight = new Set(names.map((n) => POSE_INDEX[n]).filter((i) => i !== undefined));
  }

  emit(frame) {
    this.overlay.draw(frame);
    this.frames += 1;
    if (this.frames % 30 === 0) this.report();
    this.onFrame(frame);
  }

  // For testers and the curious: how the tracking runs on this device.
  report() {
    const info = document.body.dataset;
    info.frames = String(this.frames);
    if (this.tracker) {
      info.model = this.tracker.model;
      info.delegate = this.tracker.delegate;
      info.inferenceMs = String(Math.round(this.tracker.meanMs));
    }
  }

  pause(on) {
    this.paused = on;
    if (this.demo) this.demo.pause(on);
  }

  stopFrames() {
    if (this.stopLoop) this.stopLoop();
    this.stopLoop = null;
  }

  stop({ keepCamera = false } = {}) {
    this.stopFrames();
    if (this.demo) this.demo.stop();
    this.demo = null;
    if (!keepCamera && this.cameraOn) {
      stopCamera(this.video);
      this.cameraOn = false;
    }
    this.paused = false;
    this.overlay.clear();
  }
}
