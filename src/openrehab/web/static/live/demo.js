// "Watch a demo": a simulated person's landmark stream from the server, played in real time
// through the same pipeline as the camera (drawn, sent over the socket, counted for real).

export async function loadDemo(url, side) {
  const query = side === "left" || side === "right" ? `?side=${side}` : "";
  const response = await fetch(url + query, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`demo ${response.status}`);
  const data = await response.json();
  if (!data.frames || !data.frames.length) throw new Error("empty demo");
  return data;
}

// Emit the frames at their own rate, looping, until stop() is called. Pausing holds the frame.
export function playDemo(data, onFrame) {
  const period = 1000 / (data.fps || 30);
  let index = 0;
  let last = performance.now();
  let running = true;
  let paused = false;
  const step = (now) => {
    if (!running) return;
    if (!paused) {
      while (now - last >= period) {
        last += period;
        const frame = data.frames[index];
        index = (index + 1) % data.frames.length;
        onFrame({ pose: frame.pose || null, hands: frame.hands || null });
      }
    } else {
      last = now;
    }
    window.requestAnimationFrame(step);
  };
  window.requestAnimationFrame(step);
  return {
    stop() {
      running = false;
    },
    pause(on) {
      paused = on;
    },
  };
}
