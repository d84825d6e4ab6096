"""Every channel-layer group name of the app, in one place.

A group is per object: whoever shows an object joins its group, and whoever changes the object
sends to it. The live sessions' state and their session groups use their own channel layer
(``LIVE_CHANNEL_LAYER``: Redis pub/sub in production); everything else uses the default one.
"""

from __future__ import annotations

# The channel layer of live sessions (see settings.CHANNEL_LAYERS).
LIVE_CHANNEL_LAYER = "live"


def film_group(film_id: int) -> str:
    """Everything happening to a film's jobs, shots and versions (``ws/films/<id>/``)."""
    return f"film.{film_id}"


def job_group(job_id: int) -> str:
    """A job's progress (``ws/jobs/<id>/``)."""
    return f"job.{job_id}"


def shot_group(shot_id: int) -> str:
    """A shot's comments, decisions and new versions (``ws/shots/<id>/``)."""
    return f"shot.{shot_id}"


def session_group(session_id: int) -> str:
    """A live review session's shared state and presence (``ws/sessions/<id>/``)."""
    return f"review-session.{session_id}"


def user_group(user_id: int) -> str:
    """A user's notifications (``ws/notifications/``)."""
    return f"user.{user_id}"


def user_sockets_group(user_id: int) -> str:
    """Every open socket of a user, on each channel layer: told to check their access again (a
    membership changed, an invitation was revoked) or to close (the user logged out)."""
    return f"user-sockets.{user_id}"


def session_sockets_group(session_id: int) -> str:
    """The sockets of a live session's shots (``ws/sessions/<id>/shots|frames/...``), on the default
    layer: told when the session ends (the session socket itself hears it on ``review-session.<id>``)."""
    return f"session-sockets.{session_id}"
