// Storing the game through the live-session WebSocket (docs/live-protocol.md): one set with
// source "rhythm", one `hit` per judged note, the summary with `end_set`.
//
// Every hit is kept here until the server has stored it. If the connection drops, the socket
// reconnects, resumes the same set (`start` with its set_id), and sends again the hits the
// server had not stored yet (its `ready` says how many it has).

import { REFUSED, ReconnectingSocket } from "../shared/socket.js";

const REFUSED_STARTS = ["resting", "not_safe"];

export class RhythmSocket extends ReconnectingSocket {
  /**
   * @param {string} path e.g. /api/patients/3/live
   * @param {{onEvent?: Function, onState?: Function, log?: Array}} options
   *   onState("connecting" | "ready" | "reconnecting" | "refused" | "closed" | "failed")
   */
  constructor(path, { onEvent = () => {}, onState = () => {}, log = null } = {}) {
    super(path, { onEvent, onState });
    this.log = log; // messages sent, for tests and troubleshooting
    this.startMessage = null;
    this.hits = [];
    this.sent = 0; // hits sent on this connection
    this.stored = 0; // hits the server confirmed
    this.ready = false;
    this.ending = null; // the end_set message once the game is over
    this.lastT = 0;
  }

  /** Open the set. */
  open(start) {
    this.startMessage = { type: "start", v: 1, mode: "active", source: "rhythm", ...start };
    this.wanted = true;
    this.connect();
  }

  /** One judged note (t and note_t on the performance clock, seconds). */
  hit({ t, note_t, error_ms, judgement, finger }) {
    // The server wants strictly increasing times.
    const tSafe = round3(Math.max(t, this.lastT + 0.001));
    this.lastT = tSafe;
    const message = {
      type: "hit",
      t: tSafe,
      note_t: round3(Math.max(0, note_t)),
      error_ms,
      judgement,
      finger,
    };
    this.hits.push(message);
    this._flush();
  }

  /** Close the set with its summary; resolves with the server's set_complete (or null). */
  end(summary) {
    this.ending = { type: "end_set", summary };
    return new Promise((resolve) => {
      this.onComplete = resolve;
      this._flush();
      if (!this.wanted) resolve(null);
    });
  }

  close() {
    this.wanted = false;
    if (this.ws) this.ws.close();
  }

  connect() {
    this.ready = false;
    super.connect();
  }

  newSocket() {
    try {
      return super.newSocket();
    } catch {
      this.closed({ code: 0 });
      return null;
    }
  }

  opened() {
    this._send(this.startMessage);
  }

  handle(message) {
    if (message.type === "ready") {
      this.ready = true;
      this.attempt = 0;
      this.setId = message.set_id;
      this.sessionId = message.session_id;
      this.startMessage = { ...this.startMessage, set_id: message.set_id, session_id: message.session_id };
      // Resume: the server already has `count` of our hits.
      this.stored = Math.min(message.count ?? 0, this.hits.length);
      this.sent = this.stored;
      this.onState("ready");
      this._flush();
    } else if (message.type === "rep") {
      this.stored = Math.max(this.stored, message.count);
    } else if (message.type === "set_complete") {
      this.ready = false;
      this._send({ type: "end_session" });
      this.onComplete?.(message);
    } else if (message.type === "session_complete") {
      this.wanted = false;
    } else if (message.type === "error" && (message.fatal || REFUSED_STARTS.includes(message.code))) {
      // A safety rule refused the set (pain of 7+ today, standing not judged safe): retrying
      // cannot help, and the game says why instead of "no connection".
      this.wanted = false;
      this.onState("failed", message);
    }
    this.onEvent(message);
  }

  _flush() {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    while (this.sent < this.hits.length) {
      this._send(this.hits[this.sent]);
      this.sent += 1;
    }
    if (this.ending && !this.endSent) {
      this.endSent = true;
      this._send(this.ending);
    }
  }

  _send(message) {
    if (this.log) this.log.push(message);
    this.ws.send(JSON.stringify(message));
  }

  closed(event) {
    this.ready = false;
    this.endSent = false;
    if (REFUSED.has(event.code)) {
      this.wanted = false;
      this.onState("refused", event.code);
      this.onComplete?.(null);
      return;
    }
    if (!this.wanted) {
      this.onState("closed");
      return;
    }
    if (this.attempt >= 6) {
      this.wanted = false;
      this.onState("failed");
      this.onComplete?.(null);
      return;
    }
    this.retry();
  }
}

function round3(value) {
  return Math.round(value * 1000) / 1000;
}
