// Live updates for the comments panel from the shot's event socket: comments posted or changed by
// others, a new version of the shot, and a reload on each resync (after a reconnect, or when the
// server says it may have lost events: see common/ws.js).

import { toast } from "../common/toast.js";

/**
 * Listen on `socket` (a ReconnectingSocket): `upsert(comment, {live})`, `reload()`; `user` is the
 * viewer's user ({id}), `versionLabel` the versions the page knows. Returns a function that stops.
 */
export function followComments(socket, { upsert, reload, user, versionLabel }) {
  const onResync = () => reload(); // after a reconnect, or events the server may have lost
  const onMessage = (event) => {
    const message = event.detail;
    if (message.type === "comment.created" || message.type === "comment.updated") {
      upsert(message.comment, { live: message.comment.author !== user?.id });
    } else if (message.type === "version.created" && !versionLabel.has(message.version)) {
      toast(`Version ${message.number} of this shot is ready for review. Reload to compare it.`, { title: "New version" });
    }
  };
  socket.addEventListener("resync", onResync);
  socket.addEventListener("message", onMessage);
  return () => {
    socket.removeEventListener("resync", onResync);
    socket.removeEventListener("message", onMessage);
  };
}
