"""Request body limits, enforced before the body is read: per route, by the server, not by the view.

A view's check fires only after the body has arrived (Django's ASGI handler spools all of it
before any middleware or view runs), so the limit lives here, one rule (``body_limit``) applied at
two places:

- ``RequestBodyLimit``, the ASGI middleware around Django (``asgi.py``): 413 at once when the
  declared Content-Length is over the route's limit, else it counts the ``http.request`` chunks
  and answers 413 at the first one past the limit, without reading the rest. Enough for servers
  that stream the body to the application (uvicorn, hypercorn).
- ``LimitedWebRequest``, daphne's request with the same check as the bytes come off the socket:
  daphne (through twisted) reads a whole body before it calls the application at all, so under
  daphne the middleware alone would answer a 200 MB body only once all of it had arrived.
  ``daphne_install`` (called by ``asgi.py``) makes daphne use it.

Upload routes get their file limit plus room for the multipart framing; every other route (JSON,
forms) gets ``MAX_JSON_BODY_BYTES``. The upload handler (``catalogue/upload_handlers.py``) still
bounds each file of a multipart body and names the field in its 413.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import daphne.http_protocol
from django.conf import settings
from django.urls import Resolver404, resolve

# Multipart framing (boundaries, part headers, small fields) adds a little to the files.
UPLOAD_FRAMING_BYTES = 1024 * 1024


def _grade_fit_bytes() -> int:
    from webapp.colour.references import MAX_REFERENCES

    return MAX_REFERENCES * settings.MAX_STILL_BYTES


# URL name -> the most file bytes its body may carry. Every other route is a JSON/form route.
UPLOAD_ROUTE_LIMITS = {
    "film-asset-upload": lambda: settings.MAX_UPLOAD_BYTES,
    "film-grade-fit": _grade_fit_bytes,
    "grade-import-file": lambda: settings.MAX_GRADE_FILE_BYTES,
}


def body_limit(path: str) -> int:
    """The most bytes a request body to ``path`` (without the query string) may have."""
    try:
        name = resolve(path).url_name
    except Resolver404:
        name = None
    file_bytes = UPLOAD_ROUTE_LIMITS.get(name)
    if file_bytes is None:
        return settings.MAX_JSON_BODY_BYTES
    return file_bytes() + UPLOAD_FRAMING_BYTES


def too_large_body(limit: int) -> bytes:
    """The API's error shape (docs/API.md) for a body over ``limit``."""
    detail = f"Request body is larger than the limit of {limit} bytes for this address."
    return json.dumps({"detail": detail, "code": "request_too_large"}).encode()


class _BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    """ASGI middleware: 413 for a body over its route's limit, before the application reads it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, root = scope["path"], scope.get("root_path", "")
        limit = body_limit(path[len(root):] if root and path.startswith(root) else path)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _refuse(send, 400, _error_body("Content-Length is not a number.", "bad_request"))
            if int(declared) > limit:
                return await _refuse(send, 413, too_large_body(limit))

        received = 0
        response_started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await _refuse(send, 413, too_large_body(limit))


def _error_body(detail: str, code: str) -> bytes:
    return json.dumps({"detail": detail, "code": code}).encode()


async def _refuse(send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


_DaphneWebRequest = daphne.http_protocol.WebRequest


class LimitedWebRequest(_DaphneWebRequest):
    """daphne's request, refusing a body over its route's limit as it arrives: at the headers when
    the declared length is over, else at the first chunk past it. The refusal is a 413 written
    straight to the socket, which is then closed (no more of the body is read) and the
    application is never called."""

    body_refused = False

    def gotLength(self, length):  # noqa: N802 - twisted's name
        super().gotLength(length)
        # The request line is parsed into the channel before the headers; the request gets it later.
        target = self.channel._path.split(b"?", 1)[0]
        self.body_limit = body_limit(unquote(target.decode("ascii", "replace")))
        self.body_received = 0
        if length is not None and length > self.body_limit:
            # No "100 Continue" after the 413: the client should not send the body at all.
            self.requestHeaders.removeHeader(b"expect")
            self._refuse_body()

    def handleContentChunk(self, data):  # noqa: N802 - twisted's name
        if self.body_refused:
            return
        self.body_received += len(data)
        if self.body_received > self.body_limit:
            self._refuse_body()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):  # noqa: N802 - twisted's name
        if self.body_refused:
            return  # answered already; what was in the same read is dropped
        super().requestReceived(command, path, version)

    def _refuse_body(self) -> None:
        self.body_refused = True
        body = too_large_body(self.body_limit)
        head = (b"HTTP/1.1 413 Content Too Large\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.channel.transport.write(head + body)
        self.channel.loseConnection()  # stops reading: the rest of the body is never taken in


def daphne_install() -> None:
    """Make daphne build ``LimitedWebRequest`` for every HTTP request (its factory looks the class up
    in its module on each connection). Idempotent; harmless under another ASGI server."""
    daphne.http_protocol.WebRequest = LimitedWebRequest
