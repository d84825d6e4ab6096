"""Upload views check who is asking before anything reads (and stages) the body.

Django's CSRF check reads ``request.POST`` for a form field token, which parses a multipart body,
so a session user's upload would be streamed to the staging folder during authentication, before
the view could answer a non-member 404. On views with ``CheckAccessBeforeBody`` the session's CSRF
token must come in the ``X-CSRFToken`` header (as the site's scripts send it: ``api.js``), and the
view checks the film and the role before it touches ``request.data`` / ``request.FILES``.
"""

from __future__ import annotations

from django.http import QueryDict
from rest_framework.authentication import SessionAuthentication


class _WithoutFormFields:
    """The request as the CSRF check sees it: everything but the form fields (so no body is read)."""

    def __init__(self, request):
        self._wrapped = request

    @property
    def POST(self):  # noqa: N802 - Django's name
        return QueryDict()

    def __getattr__(self, name):
        return getattr(self._wrapped, name)


class CheckAccessBeforeBody:
    """APIView mixin: session authentication takes its CSRF token from the header only."""

    def get_authenticators(self):
        authenticators = super().get_authenticators()
        for authenticator in authenticators:
            if isinstance(authenticator, SessionAuthentication):
                enforce = authenticator.enforce_csrf
                authenticator.enforce_csrf = lambda request, enforce=enforce: enforce(_WithoutFormFields(request))
        return authenticators
