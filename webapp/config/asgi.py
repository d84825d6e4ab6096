"""ASGI entry point: HTTP through Django, websockets through Channels with session auth."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from webapp.config.body_limit import RequestBodyLimit  # noqa: E402
from webapp.config.routing import websocket_urlpatterns  # noqa: E402

# Multipart framing adds a little to the file itself: allow 1 MiB of it.
UPLOAD_FRAMING_BYTES = 1024 * 1024

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app, max_bytes=settings.MAX_UPLOAD_BYTES + UPLOAD_FRAMING_BYTES),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
