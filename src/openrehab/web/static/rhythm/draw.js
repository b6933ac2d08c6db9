// Drawing the board on a canvas: one lane per finger in play, notes falling to the hit line,
// the timing window as a band around the line. Colours come from CSS custom properties, so
// light and dark themes (rhythm.css) apply. Positions come from times: a note is on the line
// exactly when its sound is heard.

export const FINGER_LABELS = {
  index: "Index",
  middle: "Middle",
  ring: "Ring",
  little: "Little",
};
export const FINGER_KEYS = { index: "1", middle: "2", ring: "3", little: "4" };

function css(element, name, fallback) {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

/** Fit the canvas to its box at the screen's pixel density; returns the drawing size. */
export function fit(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth));
  const height = Math.max(1, Math.round(canvas.clientHeight));
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { context, width, height };
}

/**
 * Draw one frame.
 * @param {HTMLCanvasElement} canvas
 * @param {{now: number, travelS: number, lanes: string[], notes: Array, goodMs: number,
 *          perfectMs: number, flashes: Array, countIn: number|null, reduceMotion: boolean}} view
 *   notes: [{t, finger, state: "pending"|"perfect"|"good"|"miss", judgedAt}]
 *   flashes: [{finger, judgement, at}] (audio times of recent judgements)
 */
export function drawBoard(canvas, view) {
  const { context: g, width, height } = fit(canvas);
  const colors = {
    bg: css(canvas, "--board-bg", "#ffffff"),
    ink: css(canvas, "--board-ink", "#1b1f24"),
    lane: css(canvas, "--board-lane", "#eef2f6"),
    line: css(canvas, "--board-line", "#1b1f24"),
    band: css(canvas, "--board-band", "rgba(30,122,58,.16)"),
    perfect: css(canvas, "--board-perfect", "rgba(30,122,58,.30)"),
  };
  const finger = (name) => css(canvas, `--lane-${name}`, "#0b5cad");
  g.clearRect(0, 0, width, height);
  g.fillStyle = colors.bg;
  g.fillRect(0, 0, width, height);

  const labelH = 44;
  const hitY = height - labelH - 36;
  const topY = 8;
  const pxPerS = (hitY - topY) / view.travelS;
  const yOf = (t) => hitY - (t - view.now) * pxPerS;
  const lanes = view.lanes.length ? view.lanes : ["index"];
  const laneW = width / lanes.length;
  const radius = Math.max(14, Math.min(laneW * 0.3, 34));
  const xOf = (name) => (Math.max(0, lanes.indexOf(name)) + 0.5) * laneW;

  // Lanes, alternating shades, with the finger's name and key at the bottom.
  lanes.forEach((name, i) => {
    g.fillStyle = i % 2 ? colors.bg : colors.lane;
    g.fillRect(i * laneW, 0, laneW, height);
    g.fillStyle = finger(name);
    g.font = `600 ${laneW < 110 ? 15 : 18}px system-ui, sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    const label = lanes.length > 2 && laneW < 110 ? `${FINGER_KEYS[name]} ${FINGER_LABELS[name]}` : `${FINGER_LABELS[name]} (key ${FINGER_KEYS[name]})`;
    g.fillText(label, xOf(name), height - labelH / 2);
  });

  // The timing window: "good" band and a darker "perfect" band around the line.
  const good = (view.goodMs / 1000) * pxPerS;
  const perfect = (view.perfectMs / 1000) * pxPerS;
  g.fillStyle = colors.band;
  g.fillRect(0, hitY - good, width, 2 * good);
  g.fillStyle = colors.perfect;
  g.fillRect(0, hitY - perfect, width, 2 * perfect);

  // The hit line and a target ring per lane.
  g.strokeStyle = colors.line;
  g.lineWidth = 4;
  g.beginPath();
  g.moveTo(0, hitY);
  g.lineTo(width, hitY);
  g.stroke();
  for (const name of lanes) {
    const flash = view.flashes.find((f) => f.finger === name && view.now - f.at < 0.25 && f.judgement !== "miss");
    g.lineWidth = 5;
    g.strokeStyle = finger(name);
    g.beginPath();
    g.arc(xOf(name), hitY, radius + 6, 0, 2 * Math.PI);
    g.stroke();
    if (flash) {
      g.fillStyle = finger(name);
      g.globalAlpha = view.reduceMotion ? 0.45 : 0.6 * (1 - (view.now - flash.at) / 0.25);
      g.beginPath();
      g.arc(xOf(name), hitY, radius + (view.reduceMotion ? 6 : 6 + 40 * (view.now - flash.at)), 0, 2 * Math.PI);
      g.fill();
      g.globalAlpha = 1;
    }
  }

  // Notes: a filled circle in the finger's colour with its key number; missed notes fade.
  for (const note of view.notes) {
    if (note.state === "perfect" || note.state === "good") continue; // hit notes vanish
    const y = yOf(note.t);
    if (y < -radius || y > height + radius) continue;
    const x = xOf(note.finger);
    g.globalAlpha = note.state === "miss" ? 0.3 : 1;
    g.fillStyle = finger(note.finger);
    g.beginPath();
    g.arc(x, y, radius, 0, 2 * Math.PI);
    g.fill();
    g.lineWidth = 3;
    g.strokeStyle = colors.bg;
    g.stroke();
    g.fillStyle = colors.bg;
    g.font = `700 ${Math.round(radius * 0.9)}px system-ui, sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(FINGER_KEYS[note.finger], x, y + 1);
    g.globalAlpha = 1;
  }

  if (view.countIn) {
    g.fillStyle = colors.ink;
    g.font = "700 64px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(String(view.countIn), width / 2, hitY / 2);
  }
}
