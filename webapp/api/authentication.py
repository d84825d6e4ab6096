"""How API clients authenticate (``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``): a token that
expires (``webapp/api/tokens.py``), or the browser's session. Apart from the token views, because
DRF imports this module while its own views are being imported."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from webapp.api import services


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        expires_at = services.token_expires_at(token)
        if expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(
                f"Token expired at {expires_at.isoformat(timespec='seconds')}; "
                "request a new one with POST /api/auth/token/.", code="token_expired")
        return user, token
