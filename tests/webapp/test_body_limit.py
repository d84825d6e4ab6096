"""The ASGI guard refuses oversized bodies before Django reads them."""

import json

import pytest

from webapp.config.body_limit import RequestBodyLimit


class _RecordingApp:
    def __init__(self):
        self.called = False
        self.body = b""

    async def __call__(self, scope, receive, send):
        self.called = True
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _call(app, *, headers, chunks):
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    await app({"type": "http", "headers": headers}, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@pytest.mark.asyncio
async def test_declared_length_over_limit_is_refused_without_calling_the_app():
    inner = _RecordingApp()
    status, body = await _call(
        RequestBodyLimit(inner, max_bytes=10), headers=[(b"content-length", b"11")], chunks=[b"x" * 11]
    )
    assert status == 413
    assert "10 bytes" in json.loads(body)["detail"]
    assert not inner.called


@pytest.mark.asyncio
async def test_chunked_body_is_cut_off_once_past_the_limit():
    inner = _RecordingApp()
    status, _ = await _call(RequestBodyLimit(inner, max_bytes=10), headers=[], chunks=[b"x" * 6, b"x" * 6, b"x" * 6])
    assert status == 413
    assert len(inner.body) <= 12  # stopped at the chunk that crossed the limit, not after reading it all


@pytest.mark.asyncio
async def test_body_within_limit_passes_through():
    inner = _RecordingApp()
    status, body = await _call(
        RequestBodyLimit(inner, max_bytes=10), headers=[(b"content-length", b"10")], chunks=[b"x" * 10]
    )
    assert (status, body, inner.body) == (200, b"ok", b"x" * 10)


@pytest.mark.asyncio
async def test_malformed_content_length_is_a_400():
    status, body = await _call(
        RequestBodyLimit(_RecordingApp(), max_bytes=10), headers=[(b"content-length", b"ten")], chunks=[b""]
    )
    assert status == 400 and "Content-Length" in json.loads(body)["detail"]
