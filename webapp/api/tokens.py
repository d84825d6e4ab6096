"""API tokens for scripts: ``POST /api/auth/token/`` (user name + password) gives the user's token,
``DELETE /api/auth/token/`` revokes it. A token works ``API_TOKEN_TTL`` (30 days) after it was
issued; then it answers 401 ``token_expired`` (``webapp/api/authentication.py``) and the next POST
issues a new one.

Failed POSTs count towards django-axes' lockout like failed form logins: once locked out, 429
``locked_out`` (``webapp/api/lockout.py``), even with the right password, until the cool-off ends.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, parsers, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api import services
from webapp.api.lockout import LoginLockedOut
from webapp.api.parsers import BoundedJSONParser

TokenResponseSerializer = inline_serializer("AuthToken", {
    "token": serializers.CharField(), "expires_at": serializers.DateTimeField(),
})


class TokenView(APIView):
    # Form bodies too, as DRF's own token view (curl -d username=... -d password=...).
    parser_classes = (BoundedJSONParser, parsers.FormParser, parsers.MultiPartParser)

    def get_permissions(self):
        return [] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(request=AuthTokenSerializer, responses=TokenResponseSerializer, auth=[])
    def post(self, request):
        """User name + password -> the user's token and when it expires (a new token once the
        last one expired or was revoked). Too many failures: 429 ``locked_out``."""
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        if not credentials.is_valid():
            # django-axes marks the request it refused (or that reached the failure limit).
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut()
            raise exceptions.ValidationError(credentials.errors)
        token = services.token_issue(user=credentials.validated_data["user"])
        return Response({"token": token.key, "expires_at": services.token_expires_at(token)})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """Revoke your token: every client using it gets 401 from now on."""
        services.token_revoke(user=request.user)
        return Response(status=204)
