"""Body limits per route, before the body is read: the ASGI guard (chunks counted as they come,
the rest never asked for) and daphne's request (refused off the socket, the application never
called)."""

import asyncio
import json

import daphne.http_protocol
import pytest
from twisted.internet.testing import StringTransport

from webapp.config.asgi import application
from webapp.config.body_limit import UPLOAD_FRAMING_BYTES, LimitedWebRequest, RequestBodyLimit, body_limit

CHUNK = 64 * 1024
TOKEN_PATH = "/api/auth/token/"
UPLOAD_PATH = "/api/films/1/assets/upload/"


@pytest.fixture
def limits(settings):
    settings.MAX_JSON_BODY_BYTES = 1024 * 1024
    settings.MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    settings.MAX_GRADE_FILE_BYTES = 2 * 1024 * 1024
    return settings


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


class _ChunkedBody:
    """The client side of a body sent in ``count`` chunks; counts the chunks the server asked for."""

    def __init__(self, count: int, size: int = CHUNK):
        self.count, self.size, self.receive_calls = count, size, 0

    async def receive(self):
        self.receive_calls += 1
        if self.receive_calls > self.count:
            await asyncio.Event().wait()  # the client waits for the answer (the app listens for a disconnect)
        return {"type": "http.request", "body": b"x" * self.size, "more_body": self.receive_calls < self.count}


async def _call(app, *, path, body: _ChunkedBody, headers=(), method="POST"):
    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": [(b"host", b"testserver"), *headers], "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "asgi": {"version": "3.0"},
             "http_version": "1.1"}
    await app(scope, body.receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, content


def test_upload_routes_get_their_file_limit_and_every_other_route_the_json_limit(limits):
    assert body_limit(UPLOAD_PATH) == 10 * 1024 * 1024 + UPLOAD_FRAMING_BYTES
    assert body_limit("/api/grades/import/") == 2 * 1024 * 1024 + UPLOAD_FRAMING_BYTES
    for path in (TOKEN_PATH, "/api/comments/", "/accounts/login/", "/no/such/route/"):
        assert body_limit(path) == 1024 * 1024


@pytest.mark.asyncio
async def test_declared_length_over_the_route_limit_is_refused_without_reading_or_calling_the_app(limits):
    inner, body = _RecordingApp(), _ChunkedBody(count=1000)
    status, content = await _call(RequestBodyLimit(inner), path=TOKEN_PATH, body=body,
                                  headers=[(b"content-length", str(1000 * CHUNK).encode())])
    assert status == 413
    assert str(1024 * 1024) in json.loads(content)["detail"]
    assert (inner.called, body.receive_calls) == (False, 0)


@pytest.mark.asyncio
async def test_a_chunked_body_is_cut_off_at_the_first_chunk_past_the_limit(limits):
    inner, body = _RecordingApp(), _ChunkedBody(count=1000)  # 64 MB to a 1 MB route
    status, _ = await _call(RequestBodyLimit(inner), path=TOKEN_PATH, body=body)
    assert status == 413
    assert body.receive_calls == 1024 * 1024 // CHUNK + 1  # 17 of the 1000 chunks
    assert len(inner.body) == 16 * CHUNK


@pytest.mark.asyncio
async def test_the_same_body_passes_on_an_upload_route(limits):
    inner, body = _RecordingApp(), _ChunkedBody(count=100)  # 6.4 MB, under the 10 MB upload limit
    status, content = await _call(RequestBodyLimit(inner), path=UPLOAD_PATH, body=body)
    assert (status, content, len(inner.body), body.receive_calls) == (200, b"ok", 100 * CHUNK, 100)


@pytest.mark.asyncio
async def test_malformed_content_length_is_a_400(limits):
    status, content = await _call(RequestBodyLimit(_RecordingApp()), path=TOKEN_PATH, body=_ChunkedBody(1),
                                  headers=[(b"content-length", b"ten")])
    assert status == 400 and "Content-Length" in json.loads(content)["detail"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_site_stops_reading_an_anonymous_60_mb_post_to_the_token_endpoint(limits):
    body = _ChunkedBody(count=960)  # 60 MB, no Content-Length (chunked)
    status, content = await _call(application, path=TOKEN_PATH, body=body,
                                  headers=[(b"content-type", b"application/json")])
    assert status == 413 and json.loads(content)["code"] == "request_too_large"
    assert body.receive_calls == 17


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_site_reads_an_upload_under_its_limit_to_the_view(limits):
    body = _ChunkedBody(count=32)  # 2 MB: over the JSON limit, under the upload limit
    status, _ = await _call(application, path=UPLOAD_PATH, body=body,
                            headers=[(b"content-type", b"multipart/form-data; boundary=x")])
    assert status == 401  # the view answered (anonymous), not the size guard
    assert body.receive_calls >= 32


# daphne -----------------------------------------------------------------------------------------


class _FakeDaphneServer:
    """What daphne's request asks of its server; records whether the application was started."""

    proxy_forwarded_address_header = None
    root_path = ""
    request_buffer_size = 8192
    server_name = "daphne"
    http_timeout = None

    def __init__(self):
        self.applications = []

    def protocol_connected(self, protocol):
        pass

    def protocol_disconnected(self, protocol):
        pass

    def create_application(self, protocol, scope):
        self.applications.append(scope)
        return None  # the request then stops, as when the client went away

    def log_action(self, *args):
        pass


@pytest.fixture
def daphne_channel(monkeypatch, limits):
    monkeypatch.setattr(daphne.http_protocol, "WebRequest", LimitedWebRequest)
    server = _FakeDaphneServer()
    channel = daphne.http_protocol.HTTPFactory(server).buildProtocol(("127.0.0.1", 5000))
    transport = StringTransport()
    channel.makeConnection(transport)
    return server, channel, transport


def _head(path: str, *headers: bytes) -> bytes:
    return b"POST " + path.encode() + b" HTTP/1.1\r\nHost: testserver\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


def test_daphne_answers_413_at_the_headers_when_the_declared_length_is_over(daphne_channel):
    server, channel, transport = daphne_channel
    channel.dataReceived(_head(TOKEN_PATH, b"Content-Length: 209715200", b"Expect: 100-continue"))
    reply = transport.value()
    assert reply.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in reply
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["code"] == "request_too_large"
    assert transport.disconnecting  # no more of the body is read
    assert server.applications == []


def test_daphne_cuts_a_chunked_body_off_at_the_first_chunk_past_the_limit(daphne_channel):
    server, channel, transport = daphne_channel
    channel.dataReceived(_head(TOKEN_PATH, b"Transfer-Encoding: chunked"))
    sent = 0
    for _ in range(1000):  # 64 MB offered; the channel stops taking it once it has answered
        if transport.disconnecting:
            break
        channel.dataReceived(b"%x\r\n" % CHUNK + b"x" * CHUNK + b"\r\n")
        sent += 1
    assert sent == 17
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert server.applications == []


def test_daphne_passes_a_body_within_the_route_limit_to_the_application(daphne_channel):
    server, channel, transport = daphne_channel
    body = b"x" * (2 * 1024 * 1024)  # over the JSON limit, within the upload limit
    channel.dataReceived(_head(UPLOAD_PATH, b"Content-Length: %d" % len(body)) + body)
    assert [scope["path"] for scope in server.applications] == [UPLOAD_PATH]
    assert not transport.disconnecting and b"413" not in transport.value()
