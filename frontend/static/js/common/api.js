// fetch() for the JSON API with the session's CSRF token, JSON bodies, and one error shape.
import { toastError } from "./toast.js";

export class ApiError extends Error {
  /** `status` is the HTTP status (0 for a network failure); `body` the parsed error JSON if any. */
  constructor(message, status, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

/** The API's error body ({detail} or {field: [messages]}) as one readable line. */
export function errorMessage(body, status) {
  if (!body) return `Request failed (HTTP ${status}).`;
  if (typeof body === "string") return body;
  if (body.detail) return String(body.detail);
  const parts = [];
  for (const [field, value] of Object.entries(body)) {
    const text = Array.isArray(value) ? value.join(" ") : typeof value === "object" ? JSON.stringify(value) : value;
    parts.push(field === "non_field_errors" ? text : `${field}: ${text}`);
  }
  return parts.join("; ") || `Request failed (HTTP ${status}).`;
}

/** A random UUID; `crypto.randomUUID` exists only on HTTPS and localhost, getRandomValues everywhere. */
function randomUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The Idempotency-Key of each write not yet known to have succeeded, by method, URL and body
// (docs/API.md "Retries"). Sending the same write again after a failure (a timeout, a lost
// connection, a 5xx) reuses its key, so a write that did reach the server is answered with its
// first result instead of being done twice; once it succeeds, the same body again is a new action.
const pendingKeys = new Map();

/**
 * Call the API. `api("/api/films/")`, `api(url, {method: "POST", body: {...}})`.
 * Resolves to the parsed JSON (null for 204). Rejects with ApiError; unless `quiet` is set the
 * error is also shown as a toast, so callers only handle what they want to handle specially.
 * `idempotent: true` (writes that create: comments, decisions, jobs) sends an Idempotency-Key,
 * generated for this action and reused while the same action is retried.
 */
export async function api(url, { method = "GET", body, quiet = false, signal, headers = {}, idempotent = false } = {}) {
  const init = { method, credentials: "same-origin", signal, headers: { Accept: "application/json", ...headers } };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const action = idempotent ? `${method} ${url} ${init.body ?? ""}` : null;
  if (action !== null) {
    if (!pendingKeys.has(action)) pendingKeys.set(action, randomUuid());
    init.headers["Idempotency-Key"] = pendingKeys.get(action);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    const failure = new ApiError("The server cannot be reached. Check your connection.", 0, null);
    if (!quiet) toastError(failure.message);
    throw failure;
  }
  // Done, or refused as a reuse of the key: either way the next such request is a new action.
  if (action !== null && (response.ok || response.status === 422)) pendingKeys.delete(action);
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const failure = new ApiError(errorMessage(data, response.status), response.status, data);
    if (!quiet) toastError(failure.message);
    throw failure;
  }
  return data;
}
