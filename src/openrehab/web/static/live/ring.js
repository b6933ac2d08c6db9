// The progress ring around the big counter: an SVG circle whose stroke grows to the goal.

const RADIUS = 54;
const LENGTH = 2 * Math.PI * RADIUS;

export class Ring {
  constructor(svg) {
    this.bar = svg.querySelector(".ring-bar");
    this.bar.setAttribute("stroke-dasharray", `${LENGTH} ${LENGTH}`);
    this.set(0);
  }

  // fraction 0..1 of the way to the goal
  set(fraction) {
    const clamped = Math.max(0, Math.min(1, fraction || 0));
    this.bar.setAttribute("stroke-dashoffset", String(LENGTH * (1 - clamped)));
  }
}
