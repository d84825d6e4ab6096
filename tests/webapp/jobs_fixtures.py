"""Fixtures shared by the job tests (imported by name into each test module): a media root of
the test's own, a small scan cut into shots, and the Celery messages a test sent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from restoration.io import write_video
from tests.webapp.factories import MediaAssetFactory, ShotFactory

CHEAP_SPEC = {"ops": [{"op": "deflicker"}]}
FRAMES, HEIGHT, WIDTH = 8, 48, 64
SCAN_NAME = "assets/test/scan.mkv"


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def media_files(root: Path) -> set[str]:
    """Stored media, without the review previews (a cache under proxies/)."""
    return {name for name in files_under(root) if not name.startswith("proxies/")}


def make_scan(film, media_root: Path, frames: int = FRAMES):
    (media_root / SCAN_NAME).parent.mkdir(parents=True, exist_ok=True)
    ramp = torch.linspace(0.2, 0.8, frames).view(frames, 1, 1, 1).expand(frames, 1, HEIGHT, WIDTH).contiguous()
    write_video(media_root / SCAN_NAME, ramp, fps=24.0)
    return MediaAssetFactory(film=film, file=SCAN_NAME, width=WIDTH, height=HEIGHT, frame_count=frames, fps=24.0)


def make_shots(film, media_root: Path) -> list:
    """Two 4-frame shots of an 8-frame grey 64x48 scan stored as the film's original."""
    scan = make_scan(film, media_root)
    return [
        ShotFactory(film=film, number=1, start_frame=0, end_frame=3, source=scan),
        ShotFactory(film=film, number=2, start_frame=4, end_frame=7, source=scan),
    ]


@pytest.fixture
def shots(film, media_root):
    return make_shots(film, media_root)


class SentMessages(list):
    """(task name, args, task id) of each message; ``queues``: the queue each was sent on."""

    def __init__(self):
        super().__init__()
        self.queues: list[str | None] = []


@pytest.fixture
def sent_messages(monkeypatch) -> SentMessages:
    """Celery messages sent during the test, as (task name, args, task id), instead of sending
    them; ``sent_messages.queues`` lists the queue each was sent on."""
    from webapp.config.celery import app

    sent = SentMessages()

    def send_task(name, args=None, kwargs=None, task_id=None, **options):
        sent.append((name, tuple(args or ()), task_id))
        queue = options.get("queue")
        sent.queues.append(getattr(queue, "name", queue))

    monkeypatch.setattr(app, "send_task", send_task)
    return sent
