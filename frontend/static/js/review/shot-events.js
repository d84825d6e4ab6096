// One websocket per page to the shot's events (ws/shots/<id>/): comment.created|updated,
// decision.recorded, version.created. The comments and decisions panels share it.

import { ReconnectingSocket } from "../common/ws.js";

const sockets = new Map();

/** The shot's event socket; listen for "message" (detail: the event JSON). */
export function shotEvents(shotId) {
  if (!sockets.has(shotId)) sockets.set(shotId, new ReconnectingSocket(`ws/shots/${shotId}/`));
  return sockets.get(shotId);
}
