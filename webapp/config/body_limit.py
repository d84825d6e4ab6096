"""ASGI guard that refuses request bodies over the upload limit before they are read.

Django's ASGI handler spools the whole body to disk before any view or middleware runs,
so a size check in a view only fires after a 100 GB upload has fully arrived. This guard
answers 413 from the Content-Length header at once, and stops a chunked body as soon as it
passes the limit.
"""

from __future__ import annotations

import json


class _BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    def __init__(self, app, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _refuse(send, 400, "Content-Length is not a number.")
            if int(declared) > self.max_bytes:
                return await _refuse(send, 413, self._too_large_message())

        received = 0
        response_started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
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
                await _refuse(send, 413, self._too_large_message())

    def _too_large_message(self) -> str:
        return f"Request body is larger than the limit of {self.max_bytes} bytes."


async def _refuse(send, status: int, detail: str) -> None:
    code = "request_too_large" if status == 413 else "bad_request"
    body = json.dumps({"detail": detail, "code": code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
