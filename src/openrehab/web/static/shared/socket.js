// The live-session WebSocket's plumbing (docs/live-protocol.md), shared by the live session
// (live/socket.js) and the rhythm game (rhythm/live.js): the address, one connection at a
// time, JSON messages in, and reconnecting with exponential backoff. What to send and what
// the messages mean is each subclass's: opened(ws), handle(message), closed(event).

// Close codes after which trying again is no use (not logged in, not allowed).
export const REFUSED = new Set([4401, 4403]);

export class ReconnectingSocket {
  // onEvent(message) for every server message; onState(state, detail) with
  // "connecting" | "ready" | "reconnecting" | "refused" | "closed" (and a subclass's own).
  constructor(path, { onEvent, onState }) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${window.location.host}${path}`;
    this.onEvent = onEvent;
    this.onState = onState;
    this.ws = null;
    this.wanted = false; // reconnect if the socket drops
    this.attempt = 0;
    this.retryTimer = null;
  }

  // A new WebSocket to the server (a subclass may catch a failure here and return null).
  newSocket() {
    return new WebSocket(this.url);
  }

  // (Re)connect, dropping the connection there was.
  connect() {
    window.clearTimeout(this.retryTimer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
    this.onState(this.attempt ? "reconnecting" : "connecting");
    const ws = this.newSocket();
    if (!ws) return;
    this.ws = ws;
    ws.onopen = () => this.opened(ws);
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handle(message);
    };
    ws.onclose = (event) => this.closed(event);
  }

  // Connect again after a drop, waiting twice as long each time (0.5 s up to 8 s).
  retry() {
    const delay = Math.min(8000, 500 * 2 ** this.attempt);
    this.attempt += 1;
    this.onState("reconnecting");
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  opened(_ws) {}

  handle(message) {
    this.onEvent(message);
  }

  closed(_event) {}
}
