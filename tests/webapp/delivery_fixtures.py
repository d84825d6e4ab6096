"""Fixtures of the delivery tests: an 8-frame scan with a sound track whose samples say which scan
frame they belong to, cut into two shots, restored, approved on demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from restoration.io import SoundReader, VideoWriter
from tests.webapp.factories import MediaAssetFactory, ShotFactory
from webapp.catalogue.models import Shot
from webapp.jobs import services
from webapp.jobs.services import job_run

FRAMES, HEIGHT, WIDTH, FPS, RATE = 8, 64, 64, 24.0, 48_000  # 64: a distribution encode's least side
PER_FRAME = RATE // 24
SCAN_NAME = "assets/test/scan-with-sound.mkv"
NO_OPS = {"ops": []}


def frame_sound(number: int) -> int:
    """The sample value (16 bit, left-justified) of every sample of scan frame ``number``."""
    return (number + 1) * 1000 << 16


def write_scan(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(path, fps=FPS, sound=((RATE, "stereo", 16),)) as out:
        for number in range(FRAMES):
            out.write(torch.full((1, 1, HEIGHT, WIDTH), 0.2 + 0.6 * number / (FRAMES - 1)))
            out.write_sound(0, np.full((PER_FRAME, 2), frame_sound(number), dtype=np.int32))


def sound_by_frame(path: Path, frames: int) -> list[int]:
    """The first sample of each frame's stretch of a file's first sound stream."""
    with SoundReader(path, 0) as reader:
        samples = reader.read(0, frames * PER_FRAME)
    for frame in range(frames):  # the whole frame holds one value: in sync to the sample
        assert np.all(samples[frame * PER_FRAME:(frame + 1) * PER_FRAME] == samples[frame * PER_FRAME])
    return [int(samples[frame * PER_FRAME, 0]) for frame in range(frames)]


@pytest.fixture
def sound_shots(film, media_root):
    write_scan(media_root / SCAN_NAME)
    scan = MediaAssetFactory(film=film, file=SCAN_NAME, width=WIDTH, height=HEIGHT, frame_count=FRAMES, fps=FPS)
    return [ShotFactory(film=film, number=1, start_frame=0, end_frame=3, source=scan, fps=FPS),
            ShotFactory(film=film, number=2, start_frame=4, end_frame=7, source=scan, fps=FPS)]


def restore(film, shot):
    job = services.job_create(film=film, kind="restore", shot=shot, created_by=None, params={"spec": NO_OPS})
    job = job_run(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return job.result_version


def approve(shot, version) -> None:
    Shot.objects.filter(pk=shot.pk).update(approved_version=version, status="approved")
    type(version).objects.filter(pk=version.pk).update(status="approved")
