// Frames of one shot from the frame websocket (ws/shots/<id>/frames/), decoded to ImageBitmaps and
// kept in a least-recently-used cache bounded by decoded bytes.
//
// One "lane" per source: asking for frames of a source replaces the lane's request (the server
// drops the superseded one), so scrubbing never queues hundreds of stale frames. The socket is the
// app's ReconnectingSocket (backoff, final close codes); on each reopen the lanes still running are
// asked again.
// Events: "frame" {source, frame}, "error" {code, detail, request}, "connection" {state}.

import { ReconnectingSocket } from "../common/ws.js";

const HEADER_DECODER = new TextDecoder();

export class FrameStore extends EventTarget {
  /** `path`: the frame socket's path (`/ws/shots/<id>/frames/`) or ws:// URL. */
  constructor(path, { maxBytes = 640 * 1024 * 1024 } = {}) {
    super();
    this.maxBytes = maxBytes;
    this.bytes = 0;
    this.cache = new Map(); // "source:frame" -> {bitmap, bytes, height}
    this.pinned = new Set(); // keys on screen: never evicted
    this.lanes = new Map(); // source -> {request, start, next, end, height, done}
    this.nextRequest = 1;
    this.state = "connecting";
    this.closed = false;
    this.socket = new ReconnectingSocket(path);
    this.url = this.socket.url;
    this.socket.addEventListener("open", () => this._onOpen());
    this.socket.addEventListener("message", (event) => this._onText(event.detail));
    this.socket.addEventListener("binary", (event) => this._onFrame(event.detail));
    this.socket.addEventListener("close", (event) => this._onClose(event.detail));
  }

  _onOpen() {
    this._setState("open");
    // Requests in flight when the socket dropped are asked again.
    const lanes = [...this.lanes.entries()];
    this.lanes.clear();
    for (const [source, lane] of lanes) {
      if (!lane.done) this.want(source, lane.next, lane.end - lane.next, lane.height);
    }
  }

  _onClose({ code, final }) {
    if (this.closed) return;
    if (final) {
      this._setState("refused");
      this.dispatchEvent(new CustomEvent("error", {
        detail: { code: `closed_${code}`, detail: "The frame stream refused this shot." } }));
      return;
    }
    this._setState("reconnecting");
  }

  close() {
    this.closed = true;
    this.socket.close();
    for (const entry of this.cache.values()) entry.bitmap.close();
    this.cache.clear();
    this.bytes = 0;
  }

  _setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("connection", { detail: { state } }));
  }

  _onText(message) {
    if (message.type === "frames.done") {
      const lane = this.lanes.get(message.source);
      if (lane && lane.request === message.request) lane.done = true;
    } else if (message.type === "error") {
      for (const lane of this.lanes.values()) if (lane.request === message.request) lane.done = true;
      this.dispatchEvent(new CustomEvent("error", { detail: message }));
    }
  }

  async _onFrame(buffer) {
    const view = new DataView(buffer);
    const headerLength = view.getUint32(0);
    const header = JSON.parse(HEADER_DECODER.decode(new Uint8Array(buffer, 4, headerLength)));
    const lane = this.lanes.get(header.source);
    if (lane && lane.request === header.request) lane.next = Math.max(lane.next, header.frame + 1);
    const blob = new Blob([new Uint8Array(buffer, 4 + headerLength)], { type: "image/jpeg" });
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob);
    } catch {
      return; // a broken JPEG: the frame stays missing and is asked again
    }
    const key = `${header.source}:${header.frame}`;
    // The height asked for, which the server may have capped at the source's own: a frame is
    // asked again only when a taller one is wanted than was asked for (zooming in).
    const requested = lane && lane.request === header.request ? lane.height : header.height;
    const old = this.cache.get(key);
    if (old) {
      old.requested = Math.max(old.requested, requested);
      if (old.height >= header.height) { bitmap.close(); return; }
      this._drop(key);
    }
    const bytes = bitmap.width * bitmap.height * 4;
    this.cache.set(key, { bitmap, bytes, height: header.height, requested: Math.max(requested, old?.requested ?? 0) });
    this.bytes += bytes;
    this._evict();
    this.dispatchEvent(new CustomEvent("frame", { detail: { source: header.source, frame: header.frame } }));
  }

  _drop(key) {
    const entry = this.cache.get(key);
    if (!entry) return;
    this.cache.delete(key);
    this.bytes -= entry.bytes;
    entry.bitmap.close();
  }

  _evict() {
    for (const key of this.cache.keys()) {
      if (this.bytes <= this.maxBytes) break;
      if (!this.pinned.has(key)) this._drop(key);
    }
  }

  // The bitmap of a frame, or undefined; marks it recently used.
  get(source, frame) {
    const key = `${source}:${frame}`;
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    this.cache.delete(key);
    this.cache.set(key, entry);
    return entry.bitmap;
  }

  has(source, frame) {
    return this.cache.has(`${source}:${frame}`);
  }

  pin(keys) {
    this.pinned = new Set(keys);
  }

  laneIdle(source) {
    const lane = this.lanes.get(source);
    return !lane || lane.done;
  }

  // Make sure frames start..start+count-1 of `source` are cached or on their way; asks only from
  // the first missing frame, and not at all when the lane in flight already brings it. When the
  // cache already covers half the window, asks for a whole window more (up to `limit`, the
  // source's frame count), so playback sends a request every dozen frames, not every frame.
  // Returns true when a request was sent.
  want(source, start, count, height, limit = start + count) {
    let end = start + count;
    let first = start;
    while (first < end && this.covers(source, first, height)) first += 1;
    if (first >= end) return false;
    const lane = this.lanes.get(source);
    if (lane && !lane.done && lane.height >= height && lane.next <= first && first < lane.end) return false;
    if (first >= start + count / 2) end = Math.max(end, Math.min(limit, first + count));
    if (!this.socket.connected) {
      // Remembered, and asked for when the socket opens.
      this.lanes.set(source, { request: -1, start: first, next: first, end, height, done: false });
      return false;
    }
    const request = this.nextRequest++;
    this.lanes.set(source, { request, start: first, next: first, end, height, done: false });
    this.socket.send({ type: "frames", request, source, start: first, count: end - first, height });
    return true;
  }

  /** True when `frame` of `source` is cached at least as sharp as asked for at `height`. */
  covers(source, frame, height) {
    const entry = this.cache.get(`${source}:${frame}`);
    return entry !== undefined && entry.requested >= height;
  }

  cancelAll() {
    if (this.socket.connected) this.socket.send({ type: "cancel" });
    for (const lane of this.lanes.values()) lane.done = true;
  }

  // Which frames of `source` are cached, as a boolean array (for the timeline's cache bar).
  cachedFrames(source, frameCount) {
    const cached = new Array(frameCount).fill(false);
    const prefix = `${source}:`;
    for (const key of this.cache.keys()) {
      if (key.startsWith(prefix)) {
        const frame = Number(key.slice(prefix.length));
        if (frame < frameCount) cached[frame] = true;
      }
    }
    return cached;
  }
}
