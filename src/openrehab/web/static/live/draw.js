// The skeleton (or hand) over the video, in the camera's coordinates: the canvas sits in the
// same CSS-mirrored box as the video, so the drawing lines up with the mirrored picture.

const POSE_LINES = [
  [11, 12], [11, 13], [13, 15], [15, 19], [12, 14], [14, 16], [16, 20],
  [11, 23], [12, 24], [23, 24], [23, 25], [25, 27], [27, 29], [29, 31], [27, 31],
  [24, 26], [26, 28], [28, 30], [30, 32], [28, 32], [9, 10],
];
const HAND_LINES = [
  [0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [5, 9], [9, 10], [10, 11],
  [11, 12], [9, 13], [13, 14], [14, 15], [15, 16], [13, 17], [17, 18], [18, 19], [19, 20], [0, 17],
];
const SEEN = 0.5; // pose visibility below this: not drawn

export class Overlay {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.highlight = new Set(); // pose indices of the joints the exercise measures
    this.background = false; // demo: no video behind, draw a plain backdrop
  }

  size(width, height) {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
  }

  clear() {
    const { ctx, canvas } = this;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (this.background) {
      ctx.fillStyle = getComputedStyle(canvas).getPropertyValue("--stage-bg") || "#1d232a";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    }
  }

  draw(frame) {
    this.clear();
    if (!frame) return;
    if (frame.pose) this.lines(frame.pose, POSE_LINES, (p) => p[3] >= SEEN, this.highlight);
    if (frame.hands) {
      for (const side of ["left", "right"]) {
        const hand = frame.hands[side];
        if (hand) this.lines(hand, HAND_LINES, () => true, null);
      }
    }
  }

  lines(points, pairs, visible, highlight) {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    const unit = Math.max(2, Math.round(Math.min(w, h) / 120));
    ctx.lineCap = "round";
    for (const [color, width] of [
      ["rgba(0, 0, 0, 0.55)", unit * 2.2],
      ["#ffffff", unit],
    ]) {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      for (const [a, b] of pairs) {
        const p = points[a];
        const q = points[b];
        if (!p || !q || !visible(p) || !visible(q)) continue;
        ctx.moveTo(p[0] * w, p[1] * h);
        ctx.lineTo(q[0] * w, q[1] * h);
      }
      ctx.stroke();
    }
    points.forEach((p, index) => {
      if (!visible(p)) return;
      if (points.length === 33 && index < 11 && index !== 0) return; // face: only the nose
      const big = highlight && highlight.has(index);
      ctx.beginPath();
      ctx.arc(p[0] * w, p[1] * h, big ? unit * 2.6 : unit * 1.3, 0, 2 * Math.PI);
      ctx.fillStyle = big ? "#f5b700" : "#6cb2ff";
      ctx.fill();
      ctx.lineWidth = Math.max(1, unit / 2);
      ctx.strokeStyle = "#0b1520";
      ctx.stroke();
    });
  }
}
