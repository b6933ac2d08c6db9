// The live-session WebSocket (docs/live-protocol.md): start or resume a set, send landmark
// batches and taps, reconnect with exponential backoff and resume the same set.

import { REFUSED, ReconnectingSocket } from "../shared/socket.js";

export class LiveSocket extends ReconnectingSocket {
  // onEvent(message) for every server message; onState(state) with
  // "connecting" | "ready" | "reconnecting" | "refused" | "closed".
  constructor(path, { onEvent, onState }) {
    super(path, { onEvent, onState });
    this.start = null; // the start message of the current set (set_id added once known)
    this.sessionId = null;
    this.ready = false;
    this.seq = 0;
    this.pending = []; // taps and control messages waiting for `ready`
    this.pingTimer = null;
  }

  // Open a new set (in the same session once there is one).
  startSet(start) {
    this.start = { ...start, type: "start", v: 1 };
    delete this.start.set_id;
    if (this.sessionId) this.start.session_id = this.sessionId;
    this.ready = false;
    this.pending = [];
    this.wanted = true;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.sendStart(this.ws);
    else this.connect();
  }

  // The start (or resume) message, stamped with the client clock: set time 0 for a new set,
  // the moment of resuming for a resumed one (the server continues after its last rep).
  sendStart(ws) {
    ws.send(JSON.stringify({ ...this.start, t: performance.now() / 1000 }));
  }

  opened(ws) {
    if (this.start) this.sendStart(ws);
  }

  handle(message) {
    if (message.type === "ready") {
      this.ready = true;
      this.attempt = 0;
      // A demo is never stored (ids are null): keep the real session for the sets after it.
      if (message.session_id !== null) this.sessionId = message.session_id;
      if (message.set_id !== null) {
        this.start = { ...this.start, set_id: message.set_id, session_id: message.session_id };
      }
      this.onState("ready");
      this.keepAlive();
      const pending = this.pending;
      this.pending = [];
      pending.forEach((m) => this.send(m));
    } else if (message.type === "set_complete") {
      this.ready = false;
      this.start = null;
    } else if (message.type === "session_complete") {
      this.wanted = false;
    }
    this.onEvent(message);
  }

  closed(event) {
    this.ready = false;
    window.clearInterval(this.pingTimer);
    if (REFUSED.has(event.code)) {
      this.wanted = false;
      this.onState("refused", event.code);
      return;
    }
    if (!this.wanted || !this.start) {
      this.onState("closed");
      return;
    }
    this.retry();
  }

  keepAlive() {
    window.clearInterval(this.pingTimer);
    this.pingTimer = window.setInterval(() => this.send({ type: "ping" }), 20000);
  }

  // Send now if the set is open; `queue` keeps the message for after a reconnection.
  send(message, { queue = false } = {}) {
    if (this.ready && this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    if (queue) this.pending.push(message);
    return false;
  }

  sendFrames(frames) {
    if (!this.ready) return false; // frames are not worth keeping: the person moves on
    this.seq += 1;
    return this.send({ type: "frames", seq: this.seq, frames });
  }

  tap(t) {
    return this.send({ type: "tap", t }, { queue: true });
  }

  endSet() {
    return this.send({ type: "end_set" }, { queue: true });
  }

  endSession() {
    this.wanted = true;
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.sessionId) {
      this.ws.send(JSON.stringify({ type: "end_session" }));
      return true;
    }
    return false;
  }

  close() {
    this.wanted = false;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    if (this.ws) this.ws.close();
  }
}
