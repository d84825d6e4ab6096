"""Synthetic shots for the analysis tests: smooth random textures under camera motion, with grain."""

from __future__ import annotations

from pathlib import Path

import pytest

from restoration.analysis.shot_reels import textured_shot

FOOTAGE = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "footage"


@pytest.fixture
def make_shot():
    return textured_shot


@pytest.fixture
def footage() -> Path:
    if not FOOTAGE.is_dir():
        pytest.skip("shared footage folder is absent")
    return FOOTAGE
