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

/**
 * Call the API. `api("/api/films/")`, `api(url, {method: "POST", body: {...}})`.
 * Resolves to the parsed JSON (null for 204). Rejects with ApiError; unless `quiet` is set the
 * error is also shown as a toast, so callers only handle what they want to handle specially.
 */
export async function api(url, { method = "GET", body, quiet = false, signal, headers = {} } = {}) {
  const init = { method, credentials: "same-origin", signal, headers: { Accept: "application/json", ...headers } };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
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
