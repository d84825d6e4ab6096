// The app's one websocket client: every page's sockets are ReconnectingSockets, and every socket
// URL is made by socketUrl.
//
// A dropped socket is opened again after a delay that starts at 0.5 s and doubles up to 15 s, with
// jitter (so that the clients of a restarted server do not all come back in the same instant); the
// delay starts over once a connection has held for a few seconds (a server that accepts and closes
// at once still gets backoff). The app's final close codes (webapp/realtime/sockets.py) stop it:
// retrying cannot help a user who is signed out, refused, or not a member, or a session that ended.
// The server sends them on an accepted socket, also when it refuses one on connect (a refused
// handshake reads as 1006). 4429 (the client sent too fast: flooding), 4503 (the server could not
// reach Redis) and anything else (1006 a dropped network, 1011, 1012 a restarting server) are retried.
//
// Resync: a page that keeps state from a socket listens for "resync", fired on every reopen
// (events may have been missed while it was closed) and when the server says it may have lost
// events for this socket (a message with `resync: true`, or `{"type": "resync"}`; the server sends
// it once Redis is back after an outage). The server's first message on each connection (where a
// socket has one) is the state to start from; "resync" is for what a page fetched on its own.

export const CLOSE = Object.freeze({
  UNAUTHENTICATED: 4401, FORBIDDEN: 4403, NOT_FOUND: 4404, ENDED: 4410, TOO_MANY: 4429, UNAVAILABLE: 4503,
});
export const FINAL_CLOSE_CODES = new Set([CLOSE.UNAUTHENTICATED, CLOSE.FORBIDDEN, CLOSE.NOT_FOUND, CLOSE.ENDED]);

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const STABLE_MS = 3000;

/** `ws/films/3/` or `/ws/films/3/` -> `ws://host/ws/films/3/` (wss on https); a ws(s):// URL is kept. */
export function socketUrl(path) {
  if (/^wss?:\/\//.test(path)) return path;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/${String(path).replace(/^\/+/, "")}`;
}

/** The wait before reconnect attempt `attempt` (0, 1, ...): 0.5 s doubling to `maxMs`, times [0.5, 1). */
export function reconnectDelay(attempt, { firstMs = FIRST_DELAY_MS, maxMs = MAX_DELAY_MS } = {}) {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 30)) * (0.5 + Math.random() / 2);
}

export class ReconnectingSocket extends EventTarget {
  /**
   * `path`: `ws/...` (or a ws:// URL). Events: "open" (detail: {reconnected}), "message" (detail:
   * the parsed JSON), "binary" (detail: ArrayBuffer), "resync" (see above), "close" (detail: {code,
   * final, retryInMs}). `send(obj)` sends JSON (strings and ArrayBuffers as they are), queued
   * until the socket is open. `close()` stops for good.
   */
  constructor(path, { firstDelayMs = FIRST_DELAY_MS, maxDelayMs = MAX_DELAY_MS, stableMs = STABLE_MS } = {}) {
    super();
    this.url = socketUrl(path);
    this.firstDelayMs = firstDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.stableMs = stableMs;
    this.attempt = 0;
    this.opens = 0;
    this.queue = [];
    this.stopped = false;
    this.socket = null;
    this.retryTimer = null;
    this.stableTimer = null;
    // Back online: no reason to sit out the rest of a long delay.
    this.onOnline = () => { if (this.retryTimer !== null) this.reconnectNow(); };
    window.addEventListener("online", this.onOnline);
    this.connect();
  }

  get connected() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    this.retryTimer = null;
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      const reconnected = this.opens++ > 0;
      this.stableTimer = setTimeout(() => { this.attempt = 0; }, this.stableMs);
      for (const message of this.queue.splice(0)) socket.send(message);
      this.dispatchEvent(new CustomEvent("open", { detail: { reconnected } }));
      if (reconnected) this.dispatchEvent(new CustomEvent("resync", { detail: { reason: "reconnected" } }));
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        this.dispatchEvent(new CustomEvent("binary", { detail: event.data }));
        return;
      }
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: data }));
      if (data?.resync === true || data?.type === "resync") {
        this.dispatchEvent(new CustomEvent("resync", { detail: { reason: "server" } }));
      }
    });
    socket.addEventListener("close", (event) => {
      clearTimeout(this.stableTimer);
      const final = this.stopped || FINAL_CLOSE_CODES.has(event.code);
      const retryInMs = final ? null : reconnectDelay(this.attempt, { firstMs: this.firstDelayMs, maxMs: this.maxDelayMs });
      this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code, final, retryInMs } }));
      if (final) {
        window.removeEventListener("online", this.onOnline);
        return;
      }
      this.attempt += 1;
      this.retryTimer = setTimeout(() => { if (!this.stopped) this.connect(); }, retryInMs);
    });
  }

  /** Try now rather than at the end of the current delay (e.g. the browser is back online). */
  reconnectNow() {
    if (this.stopped || this.retryTimer === null) return; // open, or already connecting
    clearTimeout(this.retryTimer);
    this.connect();
  }

  send(data) {
    const message = typeof data === "string" || data instanceof ArrayBuffer ? data : JSON.stringify(data);
    if (this.connected) this.socket.send(message);
    else this.queue.push(message);
  }

  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.stableTimer);
    window.removeEventListener("online", this.onOnline);
    this.socket?.close(1000);
  }
}
