"""ASGI entry point: HTTP through Django, websockets through Channels with session auth."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from webapp.config.body_limit import RequestBodyLimit, daphne_install  # noqa: E402
from webapp.config.routing import websocket_urlpatterns  # noqa: E402

# Body limits per route, before the body is read: in daphne as it arrives, and around Django for
# servers that stream the body to the application (webapp/config/body_limit.py).
daphne_install()

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
