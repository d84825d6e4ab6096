"""The frame websocket of a shot: who may connect, frame-exact frames of the original and of a
version, newer requests superseding older ones, and bad messages refused without side effects."""

from __future__ import annotations

import io
import json
import threading

import numpy as np
import pytest
import torch
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from PIL import Image

from restoration.io import probe, write_video
from tests.webapp.factories import FilmFactory, InReviewVersionFactory, MembershipFactory, ShotFactory, UserFactory
from tests.webapp.socket_helpers import refused_with
from webapp.catalogue.models import AssetKind
from webapp.catalogue.services import asset_create
from webapp.config.routing import websocket_urlpatterns
from webapp.review import frame_consumer

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)
SCAN_FRAMES = 30
SHOT_START, SHOT_END = 10, 19  # the shot is scan frames 10..19: shot frames 0..9


def _level(index: int, inverted: bool) -> int:
    """The grey level that identifies a frame: the scan counts up, the version counts down."""
    return 250 - index * 8 if inverted else index * 8 + 4


def _clip_asset(film, tmp_path, name: str, frames: int, inverted: bool, kind: str, fps: float = 24):
    clip = torch.zeros(frames, 1, 48, 64)
    for i in range(frames):
        clip[i] = _level(i, inverted) / 255.0
    path = tmp_path / "scans" / name
    path.parent.mkdir(exist_ok=True)
    write_video(path, clip, fps=fps, codec="ffv1")
    info = probe(path)
    return asset_create(
        film=film, kind=kind, file=f"scans/{name}", original_name=name, size_bytes=path.stat().st_size,
        container=info.container, codec=info.codec, width=info.width, height=info.height, fps=info.fps,
        frame_count=info.frame_count, bit_depth=info.bit_depth, pix_fmt=info.pix_fmt, duration=info.duration,
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def shot_setup(media):
    @sync_to_async
    def make():
        film = FilmFactory()
        scan = _clip_asset(film, media, "scan.mkv", SCAN_FRAMES, inverted=False, kind=AssetKind.ORIGINAL)
        shot = ShotFactory(film=film, number=1, start_frame=SHOT_START, end_frame=SHOT_END, source=scan)
        version_media = _clip_asset(film, media, "v1.mkv", SHOT_END - SHOT_START + 1, inverted=True,
                                    kind=AssetKind.MEZZANINE)
        InReviewVersionFactory(shot=shot, number=1, media=version_media)
        # Another shot of the same film has a v2; another film's shot has a v3. Neither is this shot's.
        sibling = ShotFactory(film=film, number=2, start_frame=20, end_frame=29, source=scan)
        InReviewVersionFactory(shot=sibling, number=2, media=version_media)
        foreign_film = FilmFactory()
        InReviewVersionFactory(shot=ShotFactory(film=foreign_film, number=1), number=3, media=version_media)
        viewer = UserFactory()
        MembershipFactory(film=film, user=viewer, role="viewer")
        outsider = UserFactory()
        MembershipFactory(film=foreign_film, user=outsider, role="archivist")
        return shot, viewer, outsider

    return make


def connect(shot_id: int, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/shots/{shot_id}/frames/")
    communicator.scope["user"] = user
    return communicator


def unpack(message: bytes) -> tuple[dict, bytes]:
    length = int.from_bytes(message[:4], "big")
    return json.loads(message[4:4 + length]), message[4 + length:]


def grey(jpeg: bytes) -> float:
    return float(np.asarray(Image.open(io.BytesIO(jpeg)).convert("L")).mean())


async def ask(communicator, **fields) -> None:
    await communicator.send_to(text_data=json.dumps({"type": "frames", "request": 1, "height": 48, **fields}))


async def processed(communicator) -> None:
    """Wait until the consumer has handled every message sent so far: it handles them in order,
    so the error answering one more (bad) message comes after them."""
    await communicator.send_to(text_data="{}")
    while True:
        message = await communicator.receive_output(timeout=5)
        if message.get("text") and json.loads(message["text"]).get("type") == "error":
            return


async def test_anonymous_and_outsiders_are_refused(shot_setup):
    shot, _, outsider = await shot_setup()
    assert await refused_with(connect(shot.pk, AnonymousUser())) == 4401
    # A member of another film learns nothing: the same answer as for a shot that does not exist.
    assert await refused_with(connect(shot.pk, outsider)) == 4404
    assert await refused_with(connect(shot.pk + 1000, outsider)) == 4404


async def test_original_frames_are_the_shots_frames_of_the_scan(shot_setup):
    shot, viewer, _ = await shot_setup()
    communicator = connect(shot.pk, viewer)
    assert (await communicator.connect())[0]
    await ask(communicator, request=7, source="original", start=2, count=3)
    for frame in (2, 3, 4):
        header, jpeg = unpack(await communicator.receive_from())
        assert header == {"request": 7, "source": "original", "frame": frame, "height": 48}
        # Shot frame f is scan frame start_frame + f.
        assert abs(grey(jpeg) - _level(SHOT_START + frame, inverted=False)) < 2
    assert json.loads(await communicator.receive_from()) == {"type": "frames.done", "request": 7,
                                                              "source": "original"}
    await communicator.disconnect()


async def test_version_frames_start_at_the_versions_first_frame(shot_setup):
    shot, viewer, _ = await shot_setup()
    communicator = connect(shot.pk, viewer)
    await communicator.connect()
    await ask(communicator, source="v1", start=9, count=1, height=1080)  # taller than the media: its own height
    header, jpeg = unpack(await communicator.receive_from())
    assert (header["source"], header["frame"], header["height"]) == ("v1", 9, 48)
    assert abs(grey(jpeg) - _level(9, inverted=True)) < 2
    await communicator.disconnect()


async def test_a_retimed_version_is_compared_at_the_same_time_not_the_same_frame_number(shot_setup, media):
    """A version retimed from the shot's 24 fps to 36 (its pipeline's ``retime``) has 15 frames
    for the shot's 10: shot frame f shows the version frame on screen at f's time, floor(1.5 f)."""
    shot, viewer, _ = await shot_setup()

    @sync_to_async
    def add_retimed():
        retimed = _clip_asset(shot.film, media, "v4.mkv", 15, inverted=True, kind=AssetKind.MEZZANINE, fps=36)
        InReviewVersionFactory(shot=shot, number=4, media=retimed)
        return {source.name: source for source in frame_consumer.frame_sources(shot=shot)}

    sources = await add_retimed()
    assert sources["v4"].frame_count == 10 and sources["v4"].label == "v4 (36 fps)"
    assert sources["v1"].label == "v1"  # the same rate: no note
    communicator = connect(shot.pk, viewer)
    await communicator.connect()
    await ask(communicator, source="v4", start=0, count=10)
    for frame in range(10):
        header, jpeg = unpack(await communicator.receive_from())
        assert (header["source"], header["frame"]) == ("v4", frame)
        assert abs(grey(jpeg) - _level(frame * 3 // 2, inverted=True)) < 2, frame
    await communicator.disconnect()


BAD_MESSAGES = [
    ("not json", "invalid", "not valid JSON"),
    ("[1, 2]", "invalid", "JSON object"),
    ('{"type": "play"}', "invalid", "'type'"),
    ('{"type": "frames", "request": 1, "source": "original", "start": 0, "count": 1, "height": 48, "x": 1}',
     "invalid", "Unknown keys: x"),
    ('{"type": "frames", "request": "1", "source": "original", "start": 0, "count": 1, "height": 48}',
     "invalid", "'request'"),
    ('{"type": "frames", "request": 1, "source": "original", "start": true, "count": 1, "height": 48}',
     "invalid", "'start'"),
    ('{"type": "frames", "request": 1, "source": "original", "start": -1, "count": 1, "height": 48}',
     "invalid", "'start'"),
    ('{"type": "frames", "request": 1, "source": "original", "start": 0, "count": 49, "height": 48}',
     "invalid", "'count'"),
    ('{"type": "frames", "request": 1, "source": "original", "start": 0, "count": 1, "height": 99999}',
     "invalid", "'height'"),
    ('{"type": "frames", "request": 1, "source": "../v1", "start": 0, "count": 1, "height": 48}',
     "invalid", "'source'"),
    ('{"type": "frames", "request": 1, "source": "original", "start": 8, "count": 3, "height": 48}',
     "out_of_range", "0..9"),
    ('{"type": "frames", "request": 1, "source": "v2", "start": 0, "count": 1, "height": 48}',
     "unknown_source", "'v2'"),  # another shot's version
    ('{"type": "frames", "request": 1, "source": "v3", "start": 0, "count": 1, "height": 48}',
     "unknown_source", "'v3'"),  # another film's version
    ('{"type": "frames", "request": 1, "source": "original", "start": 0, "count": 1, "height": 48, "pad": "'
     + "x" * 5000 + '"}', "too_large", "4096"),
]


async def test_bad_messages_are_refused_with_an_error_and_change_nothing(shot_setup):
    shot, viewer, _ = await shot_setup()
    communicator = connect(shot.pk, viewer)
    await communicator.connect()
    for text, code, words in BAD_MESSAGES:
        await communicator.send_to(text_data=text)
        reply = json.loads(await communicator.receive_from())
        assert reply["type"] == "error" and reply["code"] == code and words in reply["detail"], (text[:80], reply)
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert json.loads(await communicator.receive_from())["code"] == "invalid"
    assert await communicator.receive_nothing(timeout=0.2)
    # The socket still serves good requests afterwards.
    await ask(communicator, source="original", start=0, count=1)
    assert unpack(await communicator.receive_from())[0]["frame"] == 0
    await communicator.disconnect()


async def test_a_newer_request_for_a_source_supersedes_the_one_in_flight(shot_setup, monkeypatch):
    shot, viewer, _ = await shot_setup()
    release = threading.Event()
    real_read = frame_consumer.frame_jpeg

    def gated_read(**kwargs):  # no frame is read before both requests are in
        release.wait(timeout=10)
        return real_read(**kwargs)

    monkeypatch.setattr(frame_consumer, "frame_jpeg", gated_read)
    communicator = connect(shot.pk, viewer)
    await communicator.connect()
    await ask(communicator, request=1, source="original", start=0, count=10)
    await ask(communicator, request=2, source="original", start=5, count=2)
    await processed(communicator)
    release.set()
    frames, texts = [], []
    for _ in range(3):
        message = await communicator.receive_output(timeout=5)
        if message.get("bytes") is not None:
            frames.append(unpack(message["bytes"])[0])
        else:
            texts.append(json.loads(message["text"]))
    assert [(h["request"], h["frame"]) for h in frames] == [(2, 5), (2, 6)]
    assert texts == [{"type": "frames.done", "request": 2, "source": "original"}]
    assert await communicator.receive_nothing(timeout=0.3)  # nothing more of request 1
    await communicator.disconnect()


async def test_cancel_stops_prefetching(shot_setup, monkeypatch):
    shot, viewer, _ = await shot_setup()
    release = threading.Event()
    real_read = frame_consumer.frame_jpeg

    def gated_read(**kwargs):
        release.wait(timeout=10)
        return real_read(**kwargs)

    monkeypatch.setattr(frame_consumer, "frame_jpeg", gated_read)
    communicator = connect(shot.pk, viewer)
    await communicator.connect()
    await ask(communicator, request=4, source="v1", start=0, count=10)
    await communicator.send_to(text_data=json.dumps({"type": "cancel", "request": 4}))
    await processed(communicator)
    release.set()
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_media_gone_from_the_disk_is_an_error_that_names_no_path(shot_setup, media):
    shot, viewer, _ = await shot_setup()
    (media / "scans" / "v1.mkv").unlink()
    communicator = connect(shot.pk, viewer)
    await communicator.connect()
    await ask(communicator, request=9, source="v1", start=0, count=2)
    reply = json.loads(await communicator.receive_from())
    assert reply == {"type": "error", "code": "unavailable", "request": 9,
                     "detail": "Frames of 'v1' cannot be read from its media."}
    await ask(communicator, request=10, source="original", start=0, count=1)  # the other source still plays
    assert unpack(await communicator.receive_from())[0]["request"] == 10
    await communicator.disconnect()
