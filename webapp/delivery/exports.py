"""The film's cut as exchange files: OpenTimelineIO (shots, versions, decisions and grades in
each clip's metadata), CMX 3600 EDL (an event per shot with its ASC CDL as ``*ASC_SOP`` /
``*ASC_SAT`` comments) and the grades applied as an ASC .ccc. Built from ``CutEntry`` values
(``selectors.cut_entries``), so they are plain functions of the plan."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import opentimelineio as otio

from restoration.api import cdl_collection_write

OTIO_SCHEMA_KEY = "restoration"


@dataclass(frozen=True)
class CutEntry:
    """One shot of the cut: where its picture comes from (``source_name``, frames from
    ``source_in`` on, ``frames`` long, at ``fps``) and, for the record, the shot's scan span, the
    version that went in, the reviewers' decisions on it and the grade applied (a CDL dict and its
    correction id, or None)."""

    shot_number: int
    shot_id: int
    scan_start: int
    scan_end: int
    source: str
    source_name: str
    source_in: int
    frames: int
    fps: float
    version_number: int | None = None
    version_status: str | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    grade_id: str | None = None
    grade_cdl: dict[str, Any] | None = None


def _time(frames: int, fps: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, fps)


def otio_text(entries: list[CutEntry], *, title: str, fps: float, master_name: str | None, sound_name: str | None
              ) -> str:
    """An OTIO timeline: track V1 has a clip per shot on the version (or scan) it was conformed
    from, with the record in ``metadata["restoration"]``; with ``sound_name``, track A1 the scan's
    sound for the same spans. ``master_name``: the conformed file, named in the timeline's metadata."""
    timeline = otio.schema.Timeline(name=title)
    timeline.global_start_time = _time(0, fps)
    timeline.metadata[OTIO_SCHEMA_KEY] = {"master": master_name, "fps": fps}
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(video)
    for entry in entries:
        clip = otio.schema.Clip(
            name=f"Shot {entry.shot_number}",
            media_reference=otio.schema.ExternalReference(target_url=entry.source_name),
            source_range=otio.opentime.TimeRange(_time(entry.source_in, fps), _time(entry.frames, fps)),
        )
        clip.metadata[OTIO_SCHEMA_KEY] = {
            "shot": entry.shot_number, "shot_id": entry.shot_id, "scan_frames": [entry.scan_start, entry.scan_end],
            "picture": entry.source, "version": entry.version_number, "version_status": entry.version_status,
            "decisions": entry.decisions, "grade": None if entry.grade_cdl is None else
            {"id": entry.grade_id, "cdl": entry.grade_cdl},
        }
        video.append(clip)
    if sound_name is not None:
        audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
        timeline.tracks.append(audio)
        for entry in entries:
            audio.append(otio.schema.Clip(
                name=f"Shot {entry.shot_number} sound",
                media_reference=otio.schema.ExternalReference(target_url=sound_name),
                source_range=otio.opentime.TimeRange(_time(entry.scan_start, fps), _time(entry.frames, fps)),
            ))
    return otio.adapters.write_to_string(timeline, "otio_json")


def _timecode(frames: int, fps: float) -> str:
    base = max(1, round(fps))  # non-drop-frame at the nearest whole rate, as CMX 3600 counts
    seconds, frame = divmod(frames, base)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{second:02d}:{frame:02d}"


def _reel_name(entry: CutEntry) -> str:
    """Eight characters at most, as CMX 3600 allows: the scan, or the shot's version."""
    if entry.source == "scan":
        return "SCAN"
    return f"S{entry.shot_number}V{entry.version_number}"[:8]


def _numbers(values) -> str:
    return " ".join(f"{float(value):.6f}" for value in values)


def _printable(text: str) -> str:
    """ASCII an EDL reader takes: anything else becomes "?"."""
    return re.sub(r"[^\x20-\x7e]", "?", text)


def edl_text(entries: list[CutEntry], *, title: str, fps: float, sound: bool) -> str:
    """A CMX 3600 EDL: one cut event per shot (``B``, picture and sound, or ``V``), record times
    from 00:00:00:00 at the master's rate, the clip named, and the grade as ASC CDL comments."""
    clean_title = _printable(title)[:70] or "untitled"
    lines = [f"TITLE: {clean_title}", "FCM: NON-DROP FRAME", ""]
    record = 0
    for number, entry in enumerate(entries, start=1):
        source_in = entry.source_in
        lines.append(f"{number:03d}  {_reel_name(entry):<8} {'B' if sound else 'V':<5} C        "
                     f"{_timecode(source_in, fps)} {_timecode(source_in + entry.frames, fps)} "
                     f"{_timecode(record, fps)} {_timecode(record + entry.frames, fps)}")
        lines.append(f"* FROM CLIP NAME: {_printable(entry.source_name)[:120]}")
        lines.append(f"* SHOT {entry.shot_number}: {entry.source.upper()}"
                     + (f" VERSION {entry.version_number} ({entry.version_status})" if entry.version_number else ""))
        if entry.grade_cdl is not None:
            cdl = entry.grade_cdl
            lines.append(f"*ASC_SOP ({_numbers(cdl['slope'])})({_numbers(cdl['offset'])})({_numbers(cdl['power'])})")
            lines.append(f"*ASC_SAT {float(cdl['saturation']):.6f}")
        lines.append("")
        record += entry.frames
    return "\n".join(lines)


def ccc_bytes(entries: list[CutEntry]) -> bytes:
    """The grades applied, once each, as an ASC .ccc (``correction_id_of``'s ids)."""
    corrections = {entry.grade_id: entry.grade_cdl for entry in entries if entry.grade_cdl is not None}
    return cdl_collection_write(corrections, extension=".ccc")
