"""The film's cut as exchange files: OpenTimelineIO (shots, versions, decisions and grades in
each clip's metadata), CMX 3600 EDL (an event per shot with its ASC CDL as ``*ASC_SOP`` /
``*ASC_SAT`` comments) and the grades applied as an ASC .ccc. Built from ``CutEntry`` values
(``selectors.cut_entries``), so they are plain functions of the plan.

The boundary into a shot (the analysis's ``transition_in``) is carried over: in the EDL a dissolve
is a ``D`` event and a wipe a ``W001`` event, each lasting the transition's frames from the
incoming shot's first record frame, and a fade through black is a dissolve to ``BL`` over the
outgoing shot's last half then from ``BL`` over the incoming shot's first half; in OTIO an
``otio.schema.Transition`` centred on the cut (half the span each side). Record times and the
clips' ranges stay those of the conformed picture, whose frames already hold the transition, so
the timeline lasts the film's frame count either way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import opentimelineio as otio

from restoration.api import cdl_collection_write
from webapp.catalogue.timecode import timecode

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
    transition_in: dict[str, Any] | None = None


TRANSITION_KINDS = ("dissolve", "wipe", "fade")  # anything else (a cut, none) is a cut


def transition_frames(entry: CutEntry, previous: CutEntry | None) -> int:
    """How many frames the gradual transition into ``entry`` lasts in the exports (0: a cut): the
    analysed span, at most what the shots either side can hold (a film's first shot: a cut)."""
    transition = entry.transition_in
    if previous is None or not transition or transition.get("type") not in TRANSITION_KINDS:
        return 0
    span = int(transition["end_frame"]) - int(transition["start_frame"]) + 1
    return max(0, min(span, entry.frames, previous.frames))


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
    previous = None
    for entry in entries:
        length = transition_frames(entry, previous)
        if length:
            video.append(_otio_transition(entry.transition_in["type"], length, fps))
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
        previous = entry
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


def _otio_transition(kind: str, length: int, fps: float) -> otio.schema.Transition:
    """Centred on the cut, half the span on each side (an odd frame goes to the incoming side);
    a wipe or a fade through black is a custom transition named in its metadata."""
    before = length // 2
    transition_type = (otio.schema.TransitionTypes.SMPTE_Dissolve if kind == "dissolve"
                       else otio.schema.TransitionTypes.Custom)
    transition = otio.schema.Transition(name=kind, transition_type=transition_type,
                                        in_offset=_time(before, fps), out_offset=_time(length - before, fps))
    transition.metadata[OTIO_SCHEMA_KEY] = {"type": kind, "frames": length,
                                            **({"smpte_wipe": 1} if kind == "wipe" else {}),
                                            **({"through": "black"} if kind == "fade" else {})}
    return transition


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


def _edl_event(number: int, reel: str, channels: str, edit: str, source: tuple[int, int], record: tuple[int, int],
               fps: float) -> str:
    # The viewer's timecode is the EDL's (FCM: NON-DROP FRAME): HH:MM:SS:FF at the nearest whole
    # rate (23.976 counts 24 frames a second, as CMX 3600 counts), hours not wrapped at 24.
    return (f"{number:03d}  {reel:<8} {channels:<5} {edit:<8} {timecode(source[0], fps)} "
            f"{timecode(source[1], fps)} {timecode(record[0], fps)} {timecode(record[1], fps)}")


def edl_text(entries: list[CutEntry], *, title: str, fps: float, sound: bool) -> str:
    """A CMX 3600 EDL: an event per shot (``B``, picture and sound, or ``V``), record times from
    00:00:00:00 at the master's rate, the clip named, and the grade as ASC CDL comments. A cut is
    ``C``; a dissolve ``D nnn`` and a wipe ``W001 nnn`` in the two-line form (the outgoing reel's
    cut line at its out point, then the incoming reel); a fade through black an event from the
    outgoing reel to ``BL`` then from ``BL`` to the incoming reel, each a dissolve of half."""
    clean_title = _printable(title)[:70] or "untitled"
    channels = "B" if sound else "V"
    lines = [f"TITLE: {clean_title}", "FCM: NON-DROP FRAME", ""]
    lengths = [transition_frames(entry, entries[index - 1] if index else None) for index, entry in enumerate(entries)]
    record, number = 0, 0
    previous: tuple[str, int] | None = None  # the outgoing reel and its source out
    for index, entry in enumerate(entries):
        reel, source_in, source_out = _reel_name(entry), entry.source_in, entry.source_in + entry.frames
        kind = entry.transition_in["type"] if lengths[index] else "cut"
        # a fade out of this shot into the next one: its last half dissolves to black
        fade_out = lengths[index + 1] // 2 if index + 1 < len(entries) and lengths[index + 1] and \
            entries[index + 1].transition_in["type"] == "fade" else 0
        fade_in = lengths[index] - lengths[index] // 2 if kind == "fade" else 0
        number += 1
        if kind == "fade":
            lines.append(_edl_event(number, "BL", channels, "C", (0, 0), (record, record), fps))
            lines.append(_edl_event(number, reel, channels, f"D    {fade_in:03d}", (source_in, source_out - fade_out),
                                    (record, record + entry.frames - fade_out), fps))
        elif kind in ("dissolve", "wipe"):
            edit = f"{'D' if kind == 'dissolve' else 'W001':<5}{lengths[index]:03d}"
            lines.append(_edl_event(number, previous[0], channels, "C", (previous[1], previous[1]), (record, record),
                                    fps))
            lines.append(_edl_event(number, reel, channels, edit, (source_in, source_out - fade_out),
                                    (record, record + entry.frames - fade_out), fps))
        else:
            lines.append(_edl_event(number, reel, channels, "C", (source_in, source_out - fade_out),
                                    (record, record + entry.frames - fade_out), fps))
        lines.append(f"* FROM CLIP NAME: {_printable(entry.source_name)[:120]}")
        lines.append(f"* SHOT {entry.shot_number}: {entry.source.upper()}"
                     + (f" VERSION {entry.version_number} ({entry.version_status})" if entry.version_number else ""))
        if entry.grade_cdl is not None:
            cdl = entry.grade_cdl
            lines.append(f"*ASC_SOP ({_numbers(cdl['slope'])})({_numbers(cdl['offset'])})({_numbers(cdl['power'])})")
            lines.append(f"*ASC_SAT {float(cdl['saturation']):.6f}")
        lines.append("")
        record += entry.frames - fade_out
        if fade_out:  # the outgoing reel's last frames dissolve to black
            number += 1
            out = source_out - fade_out
            lines.append(_edl_event(number, reel, channels, "C", (out, out), (record, record), fps))
            lines.append(_edl_event(number, "BL", channels, f"D    {fade_out:03d}", (0, fade_out),
                                    (record, record + fade_out), fps))
            lines.append("* FADE TO BLACK")
            lines.append("")
            record += fade_out
        previous = (reel, source_out)
    return "\n".join(lines)


def ccc_bytes(entries: list[CutEntry]) -> bytes:
    """The grades applied, once each, as an ASC .ccc (``correction_id_of``'s ids)."""
    corrections = {entry.grade_id: entry.grade_cdl for entry in entries if entry.grade_cdl is not None}
    return cdl_collection_write(corrections, extension=".ccc")
