"""What the app's websockets share, below every area of the app (it imports none of them).

- ``groups``: every channel-group name (``film.<id>``, ``job.<id>``, ``shot.<id>``,
  ``review-session.<id>``, ``user.<id>``);
- ``broadcast``: sending events to groups, best effort, after commit;
- ``sockets``: close codes, client-message errors, limits and parsing, ``GroupConsumer`` (every socket's base);
- ``rate``: the per-socket message rate (a token bucket, and the flood threshold);
- ``access``: telling open sockets that their user's access changed, or that they logged out;
- ``layers``: the Redis channel layers that outlive a Redis restart (named in settings only).

The membership check a socket makes on connect is the catalogue's (``catalogue.consumers.film_close_code``).
"""

from webapp.realtime.access import session_ended_on_commit, user_access_changed_on_commit
from webapp.realtime.broadcast import broadcast, broadcast_on_commit
from webapp.realtime.groups import (
    LIVE_CHANNEL_LAYER,
    film_group,
    job_group,
    session_group,
    session_sockets_group,
    shot_group,
    user_group,
    user_sockets_group,
)
from webapp.realtime.rate import MessageRate
from webapp.realtime.sockets import (
    CLOSE_ENDED,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_TOO_MANY,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNAVAILABLE,
    GroupConsumer,
    SocketError,
    json_object_parse,
)

__all__ = [
    "CLOSE_ENDED",
    "CLOSE_FORBIDDEN",
    "CLOSE_NOT_FOUND",
    "CLOSE_TOO_MANY",
    "CLOSE_UNAUTHENTICATED",
    "CLOSE_UNAVAILABLE",
    "LIVE_CHANNEL_LAYER",
    "MessageRate",
    "GroupConsumer",
    "SocketError",
    "broadcast",
    "broadcast_on_commit",
    "film_group",
    "job_group",
    "json_object_parse",
    "session_ended_on_commit",
    "session_group",
    "session_sockets_group",
    "shot_group",
    "user_access_changed_on_commit",
    "user_group",
    "user_sockets_group",
]
