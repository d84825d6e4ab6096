// Live updates for the comments panel from the shot's event socket: comments posted or changed by
// others, a new version of the shot, and a reload after a reconnect (events missed meanwhile).

import { toast } from "../common/toast.js";

/**
 * Listen on `socket` (a ReconnectingSocket): `upsert(comment, {live})`, `reload()`; `user` is the
 * viewer's user ({id}), `versionLabel` the versions the page knows. Returns a function that stops.
 */
export function followComments(socket, { upsert, reload, user, versionLabel }) {
  let opened = 0;
  const onOpen = () => { if (opened++ > 0) reload(); }; // catch up after a reconnect
  const onMessage = (event) => {
    const message = event.detail;
    if (message.type === "comment.created" || message.type === "comment.updated") {
      upsert(message.comment, { live: message.comment.author !== user?.id });
    } else if (message.type === "version.created" && !versionLabel.has(message.version)) {
      toast(`Version ${message.number} of this shot is ready for review. Reload to compare it.`, { title: "New version" });
    }
  };
  socket.addEventListener("open", onOpen);
  socket.addEventListener("message", onMessage);
  return () => {
    socket.removeEventListener("open", onOpen);
    socket.removeEventListener("message", onMessage);
  };
}
