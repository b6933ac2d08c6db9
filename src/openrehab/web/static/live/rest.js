// The rest between sets (or before the next exercise): a countdown ring that can be skipped.

import { Ring } from "./ring.js";

const $ = (id) => document.getElementById(id);

export class Rest {
  constructor() {
    this.ring = new Ring($("rest-ring"));
    this.timer = null;
  }

  // done / next: sentences; news: [{kind, message}]; onEnd() when the time is up.
  start({ done, next, news, seconds, button, onEnd }) {
    this.cancel();
    $("rest-done").textContent = done;
    $("rest-next").textContent = next;
    $("skip-rest").textContent = button;
    $("rest-events").replaceChildren(
      ...news.map((e) => {
        const li = document.createElement("li");
        li.className = `event-${e.kind}`;
        li.textContent = e.message;
        return li;
      }),
    );
    let left = Math.max(0, Math.round(seconds));
    const tick = () => {
      $("rest-seconds").textContent = String(left);
      this.ring.set(seconds ? left / seconds : 0);
      if (left <= 0) {
        this.timer = null;
        onEnd();
        return;
      }
      left -= 1;
      this.timer = window.setTimeout(tick, 1000);
    };
    tick();
  }

  cancel() {
    window.clearTimeout(this.timer);
    this.timer = null;
  }
}
