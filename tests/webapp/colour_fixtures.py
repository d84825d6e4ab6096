"""Fixtures of the colour tests (imported by name into each module): a small photographic scan
of the film cut into two shots, graded stills of its frames, grades made through the services."""

from __future__ import annotations

from pathlib import Path

import pytest

from restoration import api as engine
from tests.webapp.factories import MediaAssetFactory, ShotFactory
from webapp.colour.models import Grade
from webapp.colour.services import grade_create, grade_values_check

FRAMES, HEIGHT, WIDTH = 12, 72, 96
SCAN_NAME = "assets/test/colour-scan.mkv"
# A warm, contrasty look a CDL expresses exactly (the stills below carry no other twist).
LOOK = {"slope": [1.1, 1.0, 0.88], "offset": [0.02, 0.0, -0.01], "power": [1.0, 1.08, 0.95], "saturation": 1.2}
COOL = {"slope": [0.9, 1.0, 1.1], "offset": [0.0, 0.01, 0.02], "power": [1.05, 1.0, 1.0], "saturation": 0.8}
IDENTITY = {"slope": [1.0, 1.0, 1.0], "offset": [0.0, 0.0, 0.0], "power": [1.0, 1.0, 1.0], "saturation": 1.0}


def write_photo_scan(path: Path, frames: int = FRAMES) -> None:
    """A photograph under camera motion, ``frames`` frames of 96x72, lossless (edges to register on)."""
    import torch  # noqa: F401 - the engine's internals, for test data only

    from restoration.degrade import clean_sources, synthetic_clip
    from restoration.io import write_video

    path.parent.mkdir(parents=True, exist_ok=True)
    clip = synthetic_clip(dict(clean_sources())["coffee"], frames=frames, size=(HEIGHT, WIDTH), seed=1, motion="pan")
    write_video(path, clip, fps=24.0)


@pytest.fixture
def colour_scan(film, media_root):
    write_photo_scan(media_root / SCAN_NAME)
    return MediaAssetFactory(film=film, file=SCAN_NAME, width=WIDTH, height=HEIGHT, frame_count=FRAMES, fps=24.0)


@pytest.fixture
def colour_shots(film, colour_scan):
    """Two 6-frame shots of the scan (frames 0..5 and 6..11)."""
    return [
        ShotFactory(film=film, number=1, start_frame=0, end_frame=5, source=colour_scan),
        ShotFactory(film=film, number=2, start_frame=6, end_frame=11, source=colour_scan),
    ]


def graded_still(folder: Path, scan: Path, frame: int, *, cdl=LOOK, name: str | None = None, **options) -> Path:
    """A colourist's still of frame ``frame`` (0-based in the scan) under ``cdl`` alone, from
    "another transfer" (shifted, 3 % larger, JPEG-compressed), as a PNG."""
    path = folder / (name or f"still-{frame}.png")
    engine.demo_graded_still_write(scan, frame, path, cdl=cdl, twist=0.0, **options)
    return path


def make_grade(*, shot=None, scene=None, cdl=None, author=None, lut=None, note: str = "") -> Grade:
    return grade_create(values=grade_values_check(cdl or LOOK, lut), source="manual", author=author, shot=shot,
                        scene=scene, note=note)
