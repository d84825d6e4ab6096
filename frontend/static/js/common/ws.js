// A websocket that reconnects with backoff and speaks JSON. Close codes 4401/4403/4404 (not logged in,
// not a member, not found) are final: retrying cannot help, so it stops.

const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404]);

/** `ws/films/3/` -> `ws://host/ws/films/3/` (wss on https). */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/${path.replace(/^\/+/, "")}`;
}

export class ReconnectingSocket extends EventTarget {
  /**
   * Events: "message" (detail: the parsed JSON), "binary" (detail: ArrayBuffer), "open", "close"
   * (detail: {code, final}). `send(obj)` queues JSON until the socket is open.
   */
  constructor(path, { maxDelayMs = 15000 } = {}) {
    super();
    this.url = socketUrl(path);
    this.maxDelayMs = maxDelayMs;
    this.attempt = 0;
    this.queue = [];
    this.stopped = false;
    this.socket = null;
    this.connect();
  }

  get connected() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      for (const message of this.queue.splice(0)) socket.send(message);
      this.dispatchEvent(new CustomEvent("open"));
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
    });
    socket.addEventListener("close", (event) => {
      const final = this.stopped || FINAL_CLOSE_CODES.has(event.code);
      this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code, final } }));
      if (final) return;
      const delay = Math.min(this.maxDelayMs, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => { if (!this.stopped) this.connect(); }, delay);
    });
  }

  send(data) {
    const message = typeof data === "string" || data instanceof ArrayBuffer ? data : JSON.stringify(data);
    if (this.connected) this.socket.send(message);
    else this.queue.push(message);
  }

  close() {
    this.stopped = true;
    this.socket?.close(1000);
  }
}
