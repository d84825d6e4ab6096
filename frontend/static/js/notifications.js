// The notifications bell in the top bar (base.html loads this on every page for logged-in users):
// the unread count from ws/notifications/, kept live, and a toast for each new notification.
// Other scripts (the notifications page) hear of changes through document events
// "notifications:created" (detail: the notification), "notifications:unread" (detail: {unread})
// and "notifications:resync" (the socket reopened, or the server may have lost events: what was
// missed meanwhile is for them to fetch). The unread count comes again on every (re)connect.

import { ReconnectingSocket } from "./common/ws.js";
import { toast } from "./common/toast.js";

const bell = document.getElementById("notifications-bell");

function showUnread(count) {
  const badge = bell.querySelector(".badge");
  badge.hidden = !count;
  badge.textContent = count > 99 ? "99+" : String(count);
  bell.dataset.unread = String(count);
  bell.setAttribute("aria-label", count ? `Notifications, ${count} unread` : "Notifications");
  document.dispatchEvent(new CustomEvent("notifications:unread", { detail: { unread: count } }));
}

if (bell) {
  const socket = new ReconnectingSocket("ws/notifications/");
  socket.addEventListener("resync", () => document.dispatchEvent(new CustomEvent("notifications:resync")));
  socket.addEventListener("message", (event) => {
    const message = event.detail;
    if (typeof message.unread === "number") showUnread(message.unread);
    if (message.type === "notification.created" && message.notification) {
      document.dispatchEvent(new CustomEvent("notifications:created", { detail: message.notification }));
      const item = toast(message.notification.text, { title: "Notification" });
      item.querySelector(".toast-text").style.cursor = "pointer";
      item.querySelector(".toast-text").addEventListener("click", () => { location.href = message.notification.url; });
    }
  });
}
