"""Timecode for people to read. Frames are the keys; timecode is derived from them and the fps."""

from __future__ import annotations


def timecode(frame: int, fps: float) -> str:
    """HH:MM:SS:FF non-drop, 23.976 counted as 24 frames a second (as the browser's
    ``formatTimecode`` in frontend/static/js/viewer/timecode.js shows it)."""
    base = max(1, round(fps or 24))
    seconds, frames = divmod(max(0, int(frame)), base)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"
