// A visual burst for a finished set, a level up or an unlocked exercise. With reduced motion
// asked for, the banner simply fades in and out: nothing flies.

const COLORS = ["#f5b700", "#6cb2ff", "#1e7a3a", "#e0569b", "#ff7a1a"];

export function celebrate(layer, message) {
  layer.replaceChildren();
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (!still) {
    for (let i = 0; i < 28; i += 1) {
      const piece = document.createElement("span");
      piece.className = "burst-piece";
      const angle = (i / 28) * 2 * Math.PI + Math.random() * 0.3;
      const distance = 30 + Math.random() * 25;
      piece.style.setProperty("--dx", `${Math.cos(angle) * distance}vmin`);
      piece.style.setProperty("--dy", `${Math.sin(angle) * distance}vmin`);
      piece.style.background = COLORS[i % COLORS.length];
      layer.append(piece);
    }
  }
  const banner = document.createElement("p");
  banner.className = "burst-banner";
  banner.textContent = message;
  layer.append(banner);
  layer.hidden = false;
  window.clearTimeout(layer.timer);
  layer.timer = window.setTimeout(() => {
    layer.hidden = true;
    layer.replaceChildren();
  }, 2600);
}
