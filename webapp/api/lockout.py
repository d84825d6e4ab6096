"""What a client locked out by django-axes is told (too many failed logins for one user name, or
from one address; settings ``AXES_*``): 429 with ``Retry-After``, as JSON for the API (code
``locked_out``, ``webapp/api/tokens.py``) and as a page for the login forms. The lockout ends by
itself after ``AXES_COOLOFF_TIME`` without failures."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import exceptions


def lockout_seconds() -> int:
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())


class LoginLockedOut(exceptions.Throttled):
    default_code = "locked_out"

    def __init__(self) -> None:
        minutes = math.ceil(lockout_seconds() / 60)
        super().__init__(wait=lockout_seconds(), detail=(
            "Too many failed logins for this user name or from this address: logging in is paused "
            f"for up to {minutes} minutes."))


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: AxesMiddleware's answer to a locked-out login on a page (the login
    page, the admin's). The token endpoint raises ``LoginLockedOut`` itself: DRF's request is not
    the one the middleware sees."""
    response = render(request, "registration/locked_out.html",
                      {"minutes": math.ceil(lockout_seconds() / 60)}, status=429)
    response["Retry-After"] = str(lockout_seconds())
    return response
