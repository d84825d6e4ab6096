"""The exports carry the boundaries into the shots: EDL events and OTIO transitions of the right
kind and length, and a timeline that lasts the film's frame count (plain functions: no job)."""

import opentimelineio as otio

from webapp.delivery.exports import CutEntry, edl_text, otio_text

FPS = 24.0
FRAMES = [40, 50, 30, 60, 36]  # shot lengths; 216 frames in all
TRANSITIONS = [None, {"type": "cut"}, {"type": "dissolve", "length": 24}, {"type": "wipe", "length": 10},
               {"type": "fade", "length": 16}]


def _entries(transitions=TRANSITIONS) -> list[CutEntry]:
    entries, first = [], 0
    for number, (frames, transition) in enumerate(zip(FRAMES, transitions, strict=True), start=1):
        span = None
        if transition is not None:  # the analysis's film frames, around the boundary
            length = transition.get("length", 1)
            span = {"type": transition["type"], "start_frame": first - length // 2,
                    "end_frame": first - length // 2 + length - 1}
        entries.append(CutEntry(shot_number=number, shot_id=number, scan_start=first, scan_end=first + frames - 1,
                                source="approved", source_name=f"shot{number}.mkv", source_in=0, frames=frames, fps=FPS,
                                version_number=1, version_status="approved", transition_in=span))
        first += frames
    return entries


def _events(edl: str) -> list[tuple[str, ...]]:
    """(number, reel, edit, duration or "", source in, source out, record in, record out) per event line."""
    events = []
    for line in edl.splitlines():
        fields = line.split()
        if not fields or not fields[0].isdigit():
            continue
        number, reel, _, edit, *rest = fields
        duration = rest.pop(0) if len(rest) == 5 else ""
        events.append((number, reel, edit, duration, *rest))
    return events


def _frames(timecode: str) -> int:
    hours, minutes, seconds, frames = map(int, timecode.split(":"))
    return ((hours * 60 + minutes) * 60 + seconds) * 24 + frames


def test_the_edl_has_a_cut_a_dissolve_a_wipe_and_a_fade_through_black_of_the_right_lengths():
    events = _events(edl_text(_entries(), title="Film", fps=FPS, sound=False))
    assert [event[:4] for event in events] == [
        ("001", "S1V1", "C", ""),
        ("002", "S2V1", "C", ""),
        ("003", "S2V1", "C", ""), ("003", "S3V1", "D", "024"),  # outgoing cut line, then the dissolve
        ("004", "S3V1", "C", ""), ("004", "S4V1", "W001", "010"),
        ("005", "S4V1", "C", ""), ("005", "BL", "D", "008"),  # the fade's first half: to black
        ("006", "BL", "C", ""), ("006", "S5V1", "D", "008"),  # its second half: from black
    ]
    # the outgoing cut lines stand at the outgoing clip's out point and last nothing
    assert events[2][4:6] == ("00:00:02:02", "00:00:02:02") and events[2][6] == events[2][7] == "00:00:03:18"
    assert events[3][6:] == ("00:00:03:18", "00:00:05:00")  # record: the dissolve into shot 3 at frame 90
    # the records tile the film: each event starts where the one before ended, and end at its frame count
    records = [(_frames(e[6]), _frames(e[7])) for e in events]
    assert records[0][0] == 0 and records[-1][1] == sum(FRAMES)
    assert all(later[0] == earlier[1] for earlier, later in zip(records, records[1:], strict=False))
    assert sum(end - start for start, end in records) == sum(FRAMES)
    # each event's source lasts as long as its record
    assert all(_frames(e[5]) - _frames(e[4]) == _frames(e[7]) - _frames(e[6]) for e in events)


def test_the_otio_has_transitions_centred_on_the_cuts_and_the_films_duration():
    text = otio_text(_entries(), title="Film", fps=FPS, master_name="film.mkv", sound_name="scan.wav")
    timeline = otio.adapters.read_from_string(text, "otio_json")
    video = timeline.tracks[0]
    transitions = [item for item in video if isinstance(item, otio.schema.Transition)]
    assert [(t.transition_type, t.metadata["restoration"]["type"]) for t in transitions] == [
        (otio.schema.TransitionTypes.SMPTE_Dissolve, "dissolve"), (otio.schema.TransitionTypes.Custom, "wipe"),
        (otio.schema.TransitionTypes.Custom, "fade")]
    assert [(t.in_offset.value, t.out_offset.value) for t in transitions] == [(12, 12), (5, 5), (8, 8)]
    assert transitions[1].metadata["restoration"]["smpte_wipe"] == 1
    assert transitions[2].metadata["restoration"]["through"] == "black"
    # between the right clips: the dissolve into shot 3, the wipe into 4, the fade into 5
    assert [video[video.index(t) + 1].name for t in transitions] == ["Shot 3", "Shot 4", "Shot 5"]
    assert video.duration().value == sum(FRAMES) == timeline.duration().value
    assert timeline.tracks[1].duration().value == sum(FRAMES)  # the sound keeps the same length
    clips = [item for item in video if isinstance(item, otio.schema.Clip)]
    assert [clip.source_range.duration.value for clip in clips] == FRAMES
    assert [clip.trimmed_range_in_parent().start_time.value for clip in clips] == [0, 40, 90, 120, 180]


def test_shots_without_a_transition_stay_cuts():
    entries = _entries([None] * len(FRAMES))
    events = _events(edl_text(entries, title="Film", fps=FPS, sound=True))
    assert [(e[0], e[2], e[3]) for e in events] == [(f"{n:03d}", "C", "") for n in range(1, 6)]
    timeline = otio.adapters.read_from_string(otio_text(entries, title="Film", fps=FPS, master_name=None,
                                                        sound_name=None), "otio_json")
    assert not [item for item in timeline.tracks[0] if isinstance(item, otio.schema.Transition)]
    assert timeline.duration().value == sum(FRAMES)


def test_a_transition_longer_than_a_shot_is_held_to_it():
    entries = _entries([None, {"type": "dissolve", "length": 90}, None, None, None])
    events = _events(edl_text(entries, title="Film", fps=FPS, sound=False))
    assert events[2][2:4] == ("D", "040")  # shot 1 holds 40 frames
    timeline = otio.adapters.read_from_string(otio_text(entries, title="Film", fps=FPS, master_name=None,
                                                        sound_name=None), "otio_json")
    transition = next(item for item in timeline.tracks[0] if isinstance(item, otio.schema.Transition))
    assert (transition.in_offset.value, transition.out_offset.value) == (20, 20)
    assert timeline.duration().value == sum(FRAMES)


def test_the_edl_counts_non_drop_timecode_at_the_nearest_whole_rate_as_the_viewer_does():
    """FCM: NON-DROP FRAME: 23.976 material counts 24 frames a second (as the viewer's and the
    notes export's ``catalogue.timecode.timecode``, which the EDL uses); hours are not wrapped."""
    from webapp.catalogue.timecode import timecode

    hour = 3600 * 24
    entries = [CutEntry(shot_number=1, shot_id=1, scan_start=0, scan_end=2, source="scan", source_name="scan.dpx",
                        source_in=hour - 1, frames=3, fps=23.976),
               CutEntry(shot_number=2, shot_id=2, scan_start=3, scan_end=4, source="scan", source_name="scan.dpx",
                        source_in=25 * hour, frames=2, fps=23.976)]
    edl = edl_text(entries, title="Film", fps=23.976, sound=False)
    assert "FCM: NON-DROP FRAME" in edl
    assert [event[4:] for event in _events(edl)] == [
        ("00:59:59:23", "01:00:00:02", "00:00:00:00", "00:00:00:03"),
        ("25:00:00:00", "25:00:00:02", "00:00:00:03", "00:00:00:05"),
    ]
    assert timecode(hour - 1, 23.976) == "00:59:59:23" and timecode(25 * hour + 2, 23.976) == "25:00:00:02"
