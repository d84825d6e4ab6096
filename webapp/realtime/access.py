"""Telling open sockets that what let them in may have changed.

A socket checks the user's access when it opens, and again on its client's messages and relayed
events (``sockets.GroupConsumer``); these events make it check at once rather than at its next
message, and close with its final code when the answer is no:

- ``access.changed`` to ``user-sockets.<id>``: a membership of the user was added, changed or
  removed, or their guest invitation was revoked (every socket of theirs re-reads its access);
- ``access.changed`` to ``session-sockets.<id>``: the live session ended (its shot and frame
  sockets close with 4410);
- ``access.logged_out`` to ``user-sockets.<id>``: the user logged out (the sockets of that login
  close with 4401; the user's other logins, in another browser, keep theirs).

Sent once the change commits, to both channel layers (a live session's socket lives on the live one).
"""

from __future__ import annotations

import hashlib

from webapp.realtime.broadcast import broadcast, broadcast_on_commit
from webapp.realtime.groups import LIVE_CHANNEL_LAYER, session_sockets_group, user_sockets_group

ACCESS_CHANGED = "access.changed"
LOGGED_OUT = "access.logged_out"
_LAYERS = (None, LIVE_CHANNEL_LAYER)  # None: the default layer


def login_tag(session_key: str | None) -> str | None:
    """What names a login in events: a digest of its session key (the key itself is a credential)."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def user_access_changed_on_commit(*, user_id: int) -> None:
    """The user's sockets check their access again once the current transaction commits."""
    for layer in _LAYERS:
        broadcast_on_commit(user_sockets_group(user_id), {"type": ACCESS_CHANGED}, layer_alias=layer)


def session_ended_on_commit(*, session_id: int) -> None:
    """The session's shot and frame sockets check their access again (and close: it ended)."""
    broadcast_on_commit(session_sockets_group(session_id), {"type": ACCESS_CHANGED})


def user_logged_out_close_sockets(sender, request, user, **kwargs) -> None:
    """``user_logged_out`` receiver: the sockets opened by this login close with 4401."""
    if user is None:
        return
    session = getattr(request, "session", None)
    event = {"type": LOGGED_OUT, "login": login_tag(getattr(session, "session_key", None))}
    for layer in _LAYERS:
        broadcast(user_sockets_group(user.pk), event, layer_alias=layer)
