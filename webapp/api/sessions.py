"""Idle timeout of browser sessions: a session lasts ``SESSION_COOKIE_AGE`` after its last use.

Saving a session moves its expiry (in the database and the cookie) to now + ``SESSION_COOKIE_AGE``.
Rather than saving on every request (``SESSION_SAVE_EVERY_REQUEST``: a write per API call of every
open page), ``SessionRenewMiddleware`` saves a signed-in session at most once per
``SESSION_RENEW_INTERVAL_S``: the timeout is kept to within that interval, for a write a minute.
"""

from __future__ import annotations

import time

from django.conf import settings

RENEWED_AT = "_renewed_at"  # session key: when the session's expiry was last moved (Unix seconds)


def session_mark_renewed(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: logging in saves the session, so it counts as a renewal."""
    if getattr(request, "session", None) is not None:
        request.session[RENEWED_AT] = int(time.time())


class SessionRenewMiddleware:
    """After AuthenticationMiddleware: renews the signed-in user's session when its last renewal is
    ``SESSION_RENEW_INTERVAL_S`` old (SessionMiddleware then saves it and resends the cookie)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(RENEWED_AT, 0) >= settings.SESSION_RENEW_INTERVAL_S:
                request.session[RENEWED_AT] = now
        return self.get_response(request)
