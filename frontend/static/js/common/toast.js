// Small transient messages in the corner (base.html's #toasts region, announced to screen readers).

const DEFAULT_MS = { info: 4000, ok: 3500, warn: 6000, error: 8000 };

/**
 * Show a toast. `kind` is "info" | "ok" | "warn" | "error"; `title` is an optional bold first line.
 * Errors stay longer. Returns the element (remove it to dismiss early).
 */
export function toast(message, { kind = "info", title = "", timeout } = {}) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = document.createElement("div");
    region.id = "toasts";
    region.className = "toasts";
    region.setAttribute("role", "status");
    document.body.append(region);
  }
  const item = document.createElement("div");
  item.className = `toast ${kind}`;
  const text = document.createElement("div");
  text.className = "toast-text";
  if (title) {
    const strong = document.createElement("div");
    strong.className = "toast-title";
    strong.textContent = title;
    text.append(strong);
  }
  text.append(document.createTextNode(message));
  const close = document.createElement("button");
  close.type = "button";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => item.remove());
  item.append(text, close);
  region.append(item);
  const ms = timeout ?? DEFAULT_MS[kind] ?? 4000;
  if (ms > 0) setTimeout(() => item.remove(), ms);
  return item;
}

export const toastError = (message, title = "") => toast(message, { kind: "error", title });
export const toastOk = (message, title = "") => toast(message, { kind: "ok", title });
