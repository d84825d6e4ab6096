"""Timecode for people to read, and the time base that versions are compared on.

Frames are the keys; timecode is derived from them and the fps. A shot's frames are counted at
the scan's rate (``Shot.fps``); a version retimed by its pipeline (16 -> 24 fps) has more frames
than the shot, so it is compared at the same *time*, not the same frame number.
"""

from __future__ import annotations

import math
import re

# Rates closer than this (relative) are one rate: a probe reads 23.976 as 23.97602...
SAME_RATE = 1e-3


def timecode(frame: int, fps: float) -> str:
    """HH:MM:SS:FF non-drop, 23.976 counted as 24 frames a second (as the browser's
    ``formatTimecode`` in frontend/static/js/viewer/timecode.js shows it, and as a CMX 3600 EDL's
    ``FCM: NON-DROP FRAME`` counts: the delivery's EDL uses it); hours go on past 24, a negative
    frame shows as 00:00:00:00."""
    base = max(1, round(fps or 24))
    seconds, frames = divmod(max(0, int(frame)), base)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"


_TIMECODE = re.compile(r"^(\d{2})[:;.](\d{2})[:;.](\d{2})[:;.](\d{2})$")


def timecode_frame(text: str, fps: float) -> int | None:
    """The frame count of a ``HH:MM:SS:FF`` timecode (a scan's, from its DPX header) at ``fps``,
    counted as ``timecode`` counts (``timecode(timecode_frame(t, fps), fps) == t``); None when
    it is empty or not a timecode at that rate (minutes or seconds over 59, FF past the second)."""
    match = _TIMECODE.match((text or "").strip())
    if match is None:
        return None
    hours, minutes, seconds, frames = (int(part) for part in match.groups())
    base = max(1, round(fps or 24))
    if minutes > 59 or seconds > 59 or frames >= base:
        return None
    return ((hours * 60 + minutes) * 60 + seconds) * base + frames


def rate_ratio(shot_fps: float | None, media_fps: float | None) -> float:
    """Media frames per shot frame: 1 unless the media runs at another rate than the shot."""
    if not shot_fps or not media_fps or abs(media_fps / shot_fps - 1) < SAME_RATE:
        return 1.0
    return media_fps / shot_fps


def media_frame(frame: int, ratio: float) -> int:
    """The media frame on screen at shot frame ``frame``'s time: the last one that has started."""
    return math.floor(frame * ratio + 1e-9)  # 3 * (24 / 18) is 3.9999999999999996


def shot_frames_covered(media_frames: int, ratio: float) -> int:
    """How many shot frames, from frame 0, fall inside media of ``media_frames`` frames."""
    if media_frames <= 0:
        return 0
    return math.floor((media_frames - 1) / ratio + 1e-9) + 1
