// The notifications page: mark one or all read, and new ones appear at the top as they arrive.

import { api, csrfToken } from "./common/api.js";
import { escapeHtml } from "./common/format.js";

const list = () => document.getElementById("notification-list");
const readAll = document.getElementById("notifications-read-all");
const KIND_LABELS = { version_ready: "Review", mention: "Mention", decision: "Decision", comment_reply: "Reply" };

// The page's own count: the top bar's bell carries a data-unread too (notifications.js), and comes first.
const unreadCount = document.querySelector("#notifications-summary [data-unread]");

function setUnread(count) {
  unreadCount.textContent = String(count);
  readAll.disabled = !count;
}

function markedRead(item) {
  item.classList.remove("unread");
  item.querySelector("[data-mark-read]")?.remove();
}

document.addEventListener("click", async (event) => {
  const link = event.target.closest(".notification.unread .notification-text");
  if (link) {
    // Following a notification reads it; keepalive lets the request finish as the page changes.
    const id = link.closest("[data-id]").dataset.id;
    fetch(`/api/notifications/${id}/read/`, { method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" } });
    return;
  }
  const button = event.target.closest("[data-mark-read]");
  if (!button) return;
  const item = button.closest("[data-id]");
  await api(`/api/notifications/${item.dataset.id}/read/`, { method: "POST" });
  markedRead(item);
});

readAll.addEventListener("click", async () => {
  const result = await api("/api/notifications/read-all/", { method: "POST" });
  for (const item of document.querySelectorAll(".notification.unread")) markedRead(item);
  setUnread(result.unread);
});

document.addEventListener("notifications:unread", (event) => setUnread(event.detail.unread));

function renderItem(n) {
  const item = document.createElement("li");
  item.className = `notification kind-${n.kind}${n.read_at ? "" : " unread"} fresh`;
  item.dataset.id = n.id;
  item.innerHTML = `<span class="notification-kind">${KIND_LABELS[n.kind] || n.kind}</span>
    <a class="notification-text" href="${escapeHtml(n.url)}">${escapeHtml(n.text)}</a>
    <span class="notification-meta muted small">${escapeHtml(n.film_title)} · just now</span>
    ${n.read_at ? "" : '<button type="button" class="btn ghost sm" data-mark-read>Mark read</button>'}`;
  return item;
}

function listElement() {
  let ol = list();
  if (!ol) {
    document.getElementById("notification-list-empty")?.remove();
    ol = document.createElement("ol");
    ol.id = "notification-list";
    ol.className = "notification-list";
    document.querySelector(".page-head").after(ol);
  }
  return ol;
}

document.addEventListener("notifications:created", (event) => {
  if (list()?.querySelector(`[data-id="${event.detail.id}"]`)) return;
  listElement().prepend(renderItem(event.detail));
});

// The socket was away: add what arrived meanwhile, and show as read what was read elsewhere.
document.addEventListener("notifications:resync", async () => {
  const page = await api("/api/notifications/?page_size=50", { quiet: true }).catch(() => null);
  if (!page) return;
  const shown = new Map([...document.querySelectorAll(".notification[data-id]")].map((item) => [Number(item.dataset.id), item]));
  const newest = Math.max(0, ...shown.keys());
  const missed = page.results.filter((n) => n.id > newest && !shown.has(n.id)).sort((a, b) => a.id - b.id);
  for (const n of missed) listElement().prepend(renderItem(n));
  for (const n of page.results) {
    const item = shown.get(n.id);
    if (item && n.read_at && item.classList.contains("unread")) markedRead(item);
  }
});

// E-mail settings: each switch is saved as it changes (PATCH), and shown as the server answers.
const settingsForm = document.getElementById("notification-settings-form");
const settingsStatus = document.getElementById("notification-settings-status");

function showSettings(settings) {
  for (const input of settingsForm.querySelectorAll("input[type=checkbox]")) input.checked = Boolean(settings[input.name]);
  settingsForm.querySelector("[data-kinds]").disabled = !settings.email_enabled;
}

settingsForm.addEventListener("submit", (event) => event.preventDefault());
settingsForm.addEventListener("change", async (event) => {
  const input = event.target.closest("input[type=checkbox]");
  if (!input) return;
  settingsStatus.textContent = "Saving…";
  try {
    showSettings(await api("/api/me/notification-settings/", { method: "PATCH", body: { [input.name]: input.checked } }));
    settingsStatus.textContent = "Saved.";
  } catch {
    input.checked = !input.checked; // the api() toast said why
    settingsStatus.textContent = "Not saved.";
  }
});
