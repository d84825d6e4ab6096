"""The engine's front door: everything a caller outside the engine (the web app, scripts) uses.

Callers import this module and ``restoration.errors``, nothing else of the engine, and never
torch: frames cross this boundary as files on disk or as uint8/uint16 NumPy arrays. Heavy
imports (torch, PyAV) happen inside the functions, so importing the front door is cheap.

Progress callbacks are ``progress(done, total)`` with frame counts (``total`` may be None when
unknown); a callback may raise to stop the work (the web app's cancel does), and the engine
lets that exception through after removing its partial output.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from restoration.errors import MediaError, RestorationError, SpecError
from restoration.progress import ProgressBar

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from restoration.colour.grade import Grade
    from restoration.colour.stills import StillInfo
    from restoration.encode.adaptive import EncodeResult
    from restoration.io import ProbeInfo

__all__ = [
    "CLIP_KINDS",
    "ClipSpan",
    "MASTER_CODECS",
    "DEFAULT_PRESET",
    "DELIVERY_CODECS",
    "DELIVERY_METRICS",
    "DELIVERY_PRESETS",
    "DemoShot",
    "GRADE_FILE_EXTENSIONS",
    "GRADE_LUT_SIZE",
    "GRADE_LUT_SIZES",
    "GradeFitResult",
    "GradeLut",
    "GradeReference",
    "GradeValues",
    "PRESET_NAMES",
    "Progress",
    "ProgressBar",
    "RestoreResult",
    "StillInfo",
    "analyse",
    "cdl_collection_write",
    "clips_join",
    "default_device",
    "demo_graded_still_write",
    "demo_scan_write",
    "demo_sound",
    "encode_adaptive",
    "encode_options_check",
    "frames_uint8",
    "grade_check",
    "grade_colours",
    "grade_file_corrections",
    "grade_file_read",
    "grade_file_write",
    "grade_fit",
    "grade_lut",
    "grade_references_register",
    "is_transient_error",
    "preset_spec",
    "probe",
    "restore_frames",
    "sequence_files",
    "sound_add",
    "spec_validate",
    "still_probe",
    "synthetic_clip_write",
]

Progress = Callable[[int, "int | None"], None]

# Names only: the specs live in restoration.pipeline, which imports torch.
PRESET_NAMES: tuple[str, ...] = ("film", "clean")
DEFAULT_PRESET = "film"

# Failures that waiting may cure: a full disk or too many open files; GPU memory is checked apart.
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM})


def probe(path: str | os.PathLike) -> ProbeInfo:
    """Container, codec, size, rate, frame count, bit depth and pixel format of a video file, or
    of an image sequence named by a printf pattern or its folder (``info.path`` is then the
    sequence's canonical pattern to store, ``info.sequence`` its numbers, stored depth, DPX
    transfer and timecode). Raises ``MediaError`` (one line, naming the file) when it is not a
    usable video or sequence."""
    from restoration.io import probe as io_probe

    return io_probe(path)


def sequence_files(path: str | os.PathLike) -> list[str]:
    """Every frame file of the image sequence ``path`` names (as ``probe`` takes it), in frame
    order, as given (not resolved): what a caller checks before trusting a scan, e.g. that no
    frame is a link out of its ingest folders. ``MediaError`` when it is not a usable sequence."""
    from restoration.sequence import find, is_sequence_name

    if not is_sequence_name(path):
        raise MediaError(f"{path}: not an image sequence (a pattern such as f_%06d.dpx, or a folder)")
    sequence = find(path)
    return [str(sequence.frame_path(index)) for index in range(sequence.count)]


def analyse(
    path: str | os.PathLike,
    *,
    fps: float | None = None,
    spans: Sequence[tuple[int, int]] | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Shots of a clip, each ``{"start_frame", "end_frame" (inclusive), "metrics",
    "recommended_pipeline", "colour_notes", "transition_in"}`` (found shots only: the boundary into the
    shot, ``{"type", "start_frame", "end_frame"}`` or None for the first), in one streaming pass.

    Without ``spans`` the engine finds the shots; with ``spans`` (inclusive ``(start, end)``
    frame pairs, e.g. shots cut by hand) it measures exactly those and finds none."""
    from restoration.analysis import analyse as analyse_clip
    from restoration.analysis import measure_spans

    if spans is None:
        return analyse_clip(path, fps=fps, progress=progress)["shots"]
    return measure_spans(path, spans, progress=progress)


def preset_spec(name: str) -> dict[str, Any]:
    """A preset's pipeline spec with every parameter written out. ``SpecError`` for an unknown name."""
    from restoration.pipeline import preset_spec as pipeline_preset_spec

    return pipeline_preset_spec(name).to_dict()


def spec_validate(spec: Any) -> dict[str, Any]:
    """A pipeline spec validated, with the ops' default parameters written out, so what is stored
    records exactly what will run. ``SpecError`` naming the bad field otherwise."""
    from restoration.pipeline import validate_spec

    return validate_spec(spec).to_dict()


@dataclass(frozen=True)
class RestoreResult:
    """What a restore wrote: the spec that ran (an analysis-driven spec replaced by the ops the
    analysis chose, so running it again reproduces the output), a one-line summary, the output's probe."""

    spec: dict[str, Any]
    summary: str
    info: ProbeInfo


def restore_frames(
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    spec: dict[str, Any],
    start: int,
    count: int,
    fps: float,
    device: str | None = None,
    progress: Progress | None = None,
    grade: GradeValues | None = None,
    transitions: Sequence[tuple[int, int]] = (),
) -> RestoreResult:
    """Frames ``start .. start+count-1`` of ``source`` through ``spec`` into ``output`` (written
    under a temporary name and renamed; nothing is left behind on failure). With ``grade``, the
    grade is applied to the restored frames as the last step (``grade_check``'s values).
    ``transitions``: inclusive ``(start, end)`` frames (of the source) of dissolves, wipes or fades
    within the span, restored frame by frame so that no temporal op reaches across them."""
    from restoration.io import probe as io_probe
    from restoration.io import read_frames
    from restoration.pipeline import ANALYSIS_OPS, run_pipeline

    # A shot's frames are read into memory: fine for shots, not for whole reels. The output keeps
    # the source's depth (a 10-bit DPX scan gives a 16-bit version, never an 8-bit one).
    bit_depth = 8 if (io_probe(source).bit_depth or 8) <= 8 else 16
    frames = read_frames(source, start, count)
    target = device or default_device()
    local = [(max(a, start) - start, min(b, start + count - 1) - start) for a, b in transitions
             if a <= start + count - 1 and b >= start]
    if grade is None:
        result = run_pipeline(frames, spec, output=output, fps=fps, device=target, progress=progress,
                              bit_depth=bit_depth, transitions=local)
    else:
        graded = _engine_grade(grade)  # checked before the work, not after it
        result = run_pipeline(frames, spec, fps=fps, device=target, progress=progress, bit_depth=bit_depth,
                              transitions=local)
        _graded_write(result.frames, graded, output, fps=result.fps or fps, bit_depth=bit_depth)
    if spec.get("ops") != ANALYSIS_OPS:
        ran, summary = spec, f"{' → '.join(step['op'] for step in spec['ops']) or 'no op'} (as specified)"
    else:
        plans = [plan.to_dict() for plan in result.shots]
        if len(plans) == 1:
            names = " → ".join(step["op"] for step in plans[0]["ops"])
            ran, summary = {**spec, "ops": plans[0]["ops"]}, f"{names or 'no repair needed'} (chosen by the analysis)"
        else:
            ran = {**spec, "shots": plans}
            summary = f"the analysis' own choice for each of the {len(plans)} parts it found"
    return RestoreResult(spec=ran, summary=summary, info=io_probe(output))


def frames_uint8(
    path: str | os.PathLike, *, start: int = 0, end: int | None = None, chunk_size: int = 32
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Frames ``start .. end-1`` as ``(first frame number, [uint8 arrays (H, W) or (H, W, 3)])``
    chunks, decoded once in order (bounded memory): for previews and thumbnails."""
    import numpy as np
    import torch

    from restoration.io import iter_chunks

    for first, frames in iter_chunks(path, chunk_size, start=start, end=end):
        arrays = (frames.clamp(0, 1) * 255.0 + 0.5).to(dtype=torch.uint8).cpu().numpy()
        yield first, [a[0] if a.shape[0] == 1 else np.ascontiguousarray(a.transpose(1, 2, 0)) for a in arrays]


@dataclass(frozen=True)
class ClipSpan:
    """A run of frames of a picture file for ``clips_join``: frames ``start .. start+count-1``
    (``count`` None: to the end), with ``grade`` applied on the way, and the sound that goes with
    them: the audio streams of ``sound`` (the scan) from its frame ``sound_start`` on, timed by
    that file's own video frames. No ``sound``: silence, in a join that carries sound."""

    path: str | os.PathLike
    start: int = 0
    count: int | None = None
    grade: GradeValues | None = None
    sound: str | os.PathLike | None = None
    sound_start: int = 0


# Master codecs clips_join writes (lossless FFV1 in Matroska, ProRes 422 HQ in QuickTime).
MASTER_CODECS: dict[str, str] = {"ffv1": ".mkv", "prores": ".mov"}


def clips_join(
    sources: Sequence[str | os.PathLike | ClipSpan], output: str | os.PathLike, *, fps: float,
    progress: Progress | None = None, grades: Sequence[GradeValues | None] | None = None,
    sound: bool = False, codec: str | None = None,
) -> ProbeInfo:
    """The sources' frames end to end into one master file, at the deepest source's bit depth:
    FFV1 (lossless, slice CRCs) or ProRes 422 HQ (10-bit), ``codec`` or the output's extension.
    A source is a path (all its frames) or a ``ClipSpan``. ``grades`` (one per source, None for
    none) are applied to each source's frames on the way. With ``sound``, every audio stream of
    the spans' ``sound`` files goes along, sample-aligned with the pictures (PCM, 16 or 24 bit as
    the scan); the pictures must then be at the sound file's own frame rate."""
    import av
    import numpy as np

    from restoration.io import SoundReader, VideoWriter, _rate_fraction, iter_chunks, video_start_seconds
    from restoration.io import probe as io_probe

    if grades is not None and len(grades) != len(sources):
        raise RestorationError(f"clips_join: {len(grades)} grades for {len(sources)} sources")
    if codec is not None and codec not in MASTER_CODECS:
        raise RestorationError(f"clips_join: codec must be one of {', '.join(MASTER_CODECS)}, not {codec!r}")
    spans = [source if isinstance(source, ClipSpan) else ClipSpan(path=source) for source in sources]
    if grades is not None:
        spans = [ClipSpan(path=s.path, start=s.start, count=s.count, grade=g, sound=s.sound, sound_start=s.sound_start)
                 for s, g in zip(spans, grades, strict=True)]
    if not spans:
        raise RestorationError("clips_join: no sources")
    engine_grades = [None if span.grade is None else _engine_grade(span.grade) for span in spans]
    infos = [io_probe(span.path) for span in spans]
    ranges = []
    for span, info in zip(spans, infos, strict=True):
        end = info.frame_count if span.count is None else span.start + span.count
        if not 0 <= span.start < end <= info.frame_count:
            raise MediaError(f"{span.path}: frames {span.start}..{end - 1} asked, the file has {info.frame_count}")
        ranges.append((span.start, end))
    total = sum(end - start for start, end in ranges)
    bit_depth = 16 if any((info.bit_depth or 8) > 8 for info in infos) else 8
    rate = _rate_fraction(float(fps))  # the writer's own rate: sound is counted against it
    layout: tuple = ()
    offsets: dict[str, int] = {}
    if sound:
        layout, offsets = _sound_layout(spans, fps, io_probe, video_start_seconds)
    readers: dict[tuple[str, int], SoundReader] = {}
    done = 0
    try:
        with VideoWriter(output, fps=fps, bit_depth=bit_depth, codec=codec, sound=layout) as out:
            for span, graded, (start, end) in zip(spans, engine_grades, ranges, strict=True):
                span_first = done
                for _, frames in iter_chunks(span.path, 32, start=start, end=end):
                    out.write(frames if graded is None else _grade_frames(frames, graded))
                    for number, (sample_rate, channels_layout, _) in enumerate(layout):
                        # Sample counts follow the output's own timeline, so the sound never drifts
                        # from the pictures however many spans are joined.
                        first = round(done * sample_rate / rate)
                        count = round((done + frames.shape[0]) * sample_rate / rate) - first
                        if span.sound is None:
                            samples = np.zeros((count, av.AudioLayout(channels_layout).nb_channels), dtype=np.int32)
                        else:
                            reader = readers.get((str(span.sound), number))
                            if reader is None:
                                reader = readers[(str(span.sound), number)] = SoundReader(span.sound, number)
                            source_first = (offsets[str(span.sound)] * sample_rate // 1_000_000_000
                                            + round(span.sound_start * sample_rate / rate)
                                            + first - round(span_first * sample_rate / rate))
                            samples = reader.read(source_first, count)
                        out.write_sound(number, samples)
                    done += frames.shape[0]
                    if progress is not None:
                        progress(done, total)
    finally:
        for reader in readers.values():
            reader.close()
    return io_probe(output)


def sound_add(picture: str | os.PathLike, sound: str | os.PathLike, output: str | os.PathLike) -> ProbeInfo:
    """A distribution file with sound: the video of ``picture`` (e.g. ``encode_adaptive``'s output)
    copied as it is, with every audio stream of ``sound`` (a master ``clips_join`` wrote with the
    scan's sound: the same frames) as AAC, into ``output`` (.mp4 or .mkv). Nothing is left on failure."""
    from restoration.io import sound_mux

    return sound_mux(picture, sound, output)


def _sound_layout(spans, fps, io_probe, video_start_seconds) -> tuple[tuple, dict[str, int]]:
    """The sound streams of a join (those of its spans' sound files, which must agree) and each
    sound file's video start time in nanoseconds (sound is timed against its own pictures)."""
    files = list(dict.fromkeys(str(span.sound) for span in spans if span.sound is not None))
    if not files:
        raise RestorationError("clips_join: sound asked, but no span names a sound file")
    layout = None
    offsets: dict[str, int] = {}
    for file in files:
        info = io_probe(file)
        if not info.audio:
            raise MediaError(f"{file}: has no sound")
        if abs(info.fps - float(fps)) > 1e-6 * max(1.0, float(fps)):
            raise RestorationError(f"the sound of {file} runs with {info.fps:g} fps pictures; pictures at {float(fps):g} "
                                   "fps would drift from it (deliver picture only)")
        if layout is not None and info.audio != layout:
            raise MediaError(f"{file}: its sound streams {info.audio} differ from the others' {layout}")
        layout = info.audio
        offsets[file] = round(video_start_seconds(file) * 1_000_000_000)
    return layout, offsets


# Delivery encodes (restoration/encode/): names only here, the codecs' table is checked against them.
DELIVERY_CODECS: tuple[str, ...] = ("h264", "hevc", "av1")
DELIVERY_METRICS: tuple[str, ...] = ("ssim", "psnr", "xpsnr")
DELIVERY_PRESETS: tuple[str, ...] = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                                     "slower", "veryslow")


def encode_options_check(codec: str, target: str, preset: str | None = None) -> dict[str, str]:
    """A delivery encode's options checked and normalised, without torch or PyAV:
    ``{"codec", "target", "preset"}`` (e.g. ``{"codec": "h264", "target": "ssim:0.97", "preset":
    "medium"}``; preset None is medium). ``SpecError`` naming the bad field (codec, target, preset)."""
    from restoration.encode.codecs import check_preset, delivery_codec
    from restoration.encode.targets import parse_target

    checked = delivery_codec(codec)
    parsed = parse_target(target)
    return {"codec": checked.name, "target": str(parsed), "preset": check_preset(checked, "medium" if preset is None else preset)}


def encode_adaptive(
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    codec: str,
    target: str,
    shots: Sequence[tuple[int, int]] | Sequence[Mapping[str, int]] | None = None,
    preset: str = "medium",
    progress: Progress | None = None,
) -> EncodeResult:
    """A delivery encode of ``source`` into ``output`` (.mp4 or .mkv): each shot at the highest CRF
    whose quality against ``source`` meets ``target`` (``encode_options_check``'s forms; SSIM as
    ``restoration.compare``, PSNR/XPSNR of the luma as FFmpeg's filters), each starting on a
    keyframe, all frames kept. ``shots``: inclusive ``(start, end)`` pairs or ``{"start_frame",
    "end_frame"}`` covering the clip end to end; None: the analysis finds them. ``.to_dict()`` is
    ``{"bytes": N, "shots": [{"start_frame", "end_frame", "crf", "quality", "capped"}]}``
    (``capped``: at the codec's highest CRF and still above the target). ``RestorationError``
    (one line) for bad options, input or shots, or a target a shot cannot reach (naming the shot
    and the best it got); nothing is left at ``output`` then. ``progress(done, total)`` counts the
    frames of finished shots and is called after each trial encode."""
    from restoration.encode.adaptive import encode_adaptive as encode

    return encode(source, output, codec=codec, target=target, shots=shots, preset=preset, progress=progress)


def default_device() -> str:
    """``cuda`` where a GPU is visible, else ``cpu``: a worker without one (a laptop, CI) still works."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def is_transient_error(exc: BaseException) -> bool:
    """Whether the engine failed for a reason that waiting may cure (the GPU out of memory, the
    disk full); bad input and bugs are not."""
    if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
        return True
    import sys

    torch = sys.modules.get("torch")  # no torch loaded: no GPU error possible
    return torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)


# --------------------------------------------------------------------------------------------
# Colour grades: an ASC CDL then an optional 3D LUT (restoration/colour/). Grades cross this door
# as plain values (``GradeValues``): the CDL as a dict and the LUT as float32 bytes, so a caller
# can store them, send them to a browser as a 3D texture, and hand them back unchanged.

# The LUT size of every stored grade: fitted residual LUTs, imported .cube files, baked grades.
GRADE_LUT_SIZE = 33
# .cube sizes taken in: those whose lattice points all lie on the 33-point lattice ((N - 1)
# divides 32), so resampling to 33 points is exact (a trilinear cell splits into trilinear cells).
GRADE_LUT_SIZES = (2, 3, 5, 9, 17, 33)
GRADE_FILE_EXTENSIONS = (".cdl", ".cc", ".ccc", ".cube", ".json")
CDL_FILE_EXTENSIONS = (".cdl", ".cc", ".ccc")


@dataclass(frozen=True)
class GradeLut:
    """A 3D LUT as plain data. ``table`` holds ``size**3`` output colours (R, G, B) as float32
    little-endian bytes, red index changing fastest, then green, then blue (.cube order; a WebGL
    3D texture with x = red, y = green, z = blue). An input colour is mapped from
    ``domain_min .. domain_max`` to 0..1 per channel, clamped, and looked up trilinearly."""

    size: int
    table: bytes
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class GradeValues:
    """A grade: ``cdl`` ``{"slope": [r, g, b], "offset": [r, g, b], "power": [r, g, b],
    "saturation": s}``, then ``lut`` (None: the CDL alone)."""

    cdl: dict[str, Any]
    lut: GradeLut | None = None


def _engine_grade(values: GradeValues) -> Grade:
    import numpy as np

    from restoration.colour.cdl import Cdl
    from restoration.colour.grade import Grade
    from restoration.colour.lut import MAX_SIZE, MIN_SIZE, Lut3d

    if not isinstance(values, GradeValues):
        raise SpecError(f"grade: expected GradeValues, got {type(values).__name__}")
    cdl = Cdl.from_dict(dict(values.cdl) if isinstance(values.cdl, Mapping) else values.cdl)
    _cdl_limits_check(cdl)
    lut = values.lut
    if lut is None:
        return Grade(cdl=cdl)
    size = lut.size
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise SpecError(f"grade: LUT size must be a whole number {MIN_SIZE}..{MAX_SIZE}, got {size!r}")
    if not isinstance(lut.table, bytes | bytearray | memoryview) or len(lut.table) != size**3 * 12:
        raise SpecError(f"grade: a {size}-point LUT table is {size**3 * 12} bytes (float32 RGB), "
                        f"got {len(lut.table) if isinstance(lut.table, bytes | bytearray | memoryview) else '?'}")
    rows = np.frombuffer(bytes(lut.table), dtype="<f4").astype(np.float64).reshape(size, size, size, 3)
    table = rows.transpose(2, 1, 0, 3)  # [b, g, r] -> [r, g, b]
    try:
        return Grade(cdl=cdl, lut=Lut3d(table, domain_min=lut.domain_min, domain_max=lut.domain_max))
    except (TypeError, ValueError):
        raise SpecError(f"grade: LUT domain must be three numbers each, got {lut.domain_min!r} .. "
                        f"{lut.domain_max!r}") from None


# What a grade's CDL may hold on this site: wider than any real grade (the fit keeps slope and
# power within 0.05..20, saturation within 0.001..10), narrow enough to refuse a typo or garbage.
CDL_LIMITS = {"slope": (0.0, 100.0), "offset": (-10.0, 10.0), "power": (0.0, 100.0), "saturation": (0.0, 100.0)}


def _cdl_limits_check(cdl) -> None:
    for name, (low, high) in CDL_LIMITS.items():
        values = getattr(cdl, name)
        for value in values if isinstance(values, tuple) else (values,):
            if not low <= value <= high:
                raise SpecError(f"CDL {name} must be within {low:g}..{high:g}, got {value:g}")


def _grade_lut_values(lut) -> GradeLut:
    """A Lut3d as plain data (float32 bytes, red fastest)."""
    import numpy as np

    rows = lut.table.transpose(2, 1, 0, 3).astype("<f4")
    return GradeLut(size=lut.size, table=np.ascontiguousarray(rows).tobytes(),
                    domain_min=tuple(lut.domain_min), domain_max=tuple(lut.domain_max))


def _grade_values(grade: Grade) -> GradeValues:
    return GradeValues(cdl=grade.cdl.to_dict(), lut=None if grade.lut is None else _grade_lut_values(grade.lut))


def _stored_lut(lut, name: str):
    """A LUT of a size the site keeps, resampled (exactly) to GRADE_LUT_SIZE points."""
    from restoration.colour.lut import lut_resample

    if lut.size not in GRADE_LUT_SIZES:
        raise SpecError(f"{name}: a {lut.size}-point LUT is not supported; use a {GRADE_LUT_SIZE}-point LUT "
                        f"(or {', '.join(map(str, GRADE_LUT_SIZES[:-1]))} points, which resample to "
                        f"{GRADE_LUT_SIZE} exactly)")
    return lut_resample(lut, GRADE_LUT_SIZE)


def grade_check(cdl: Any, lut: GradeLut | None = None) -> GradeValues:
    """A grade's values checked and normalised (floats, a 33-point LUT or none). ``SpecError``
    naming the bad field: slope below 0, power 0 or less, saturation below 0, a non-finite value,
    an unknown field, a LUT of another size or a table of the wrong length."""
    values = _grade_values(_engine_grade(GradeValues(cdl=cdl, lut=lut)))
    if values.lut is not None and values.lut.size != GRADE_LUT_SIZE:
        raise SpecError(f"grade: the LUT must have {GRADE_LUT_SIZE} points a side, got {values.lut.size}")
    return values


def _extension(name: str) -> str:
    extension = os.path.splitext(str(name))[1].lower()
    if extension not in GRADE_FILE_EXTENSIONS:
        raise SpecError(f"{name}: unsupported grade file; use {', '.join(GRADE_FILE_EXTENSIONS)}")
    return extension


def _text(data: bytes, name: str) -> str:
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def grade_file_read(data: bytes, *, name: str, correction_id: str | None = None) -> GradeValues:
    """A grade from a file's content; ``name`` (the user's file name) gives its type and names it
    in messages. ``.cube``: the LUT alone (2, 3, 5, 9, 17 or 33 points, resampled to 33 exactly);
    ``.cdl``/``.cc``/``.ccc``: the CDL alone (``correction_id`` picks one of several);
    ``.json``: the engine's grade JSON. ``SpecError`` (one line, naming the file and the place)
    for a malformed or out-of-range file."""
    import json
    import math

    from restoration.colour.cdl_files import cdl_file_parse
    from restoration.colour.grade import Grade
    from restoration.colour.lut import cube_parse

    extension = _extension(name)
    if correction_id is not None and extension not in CDL_FILE_EXTENSIONS:
        raise SpecError(f"{name}: an id picks a correction in a .cdl/.cc/.ccc file, not in a {extension} file")
    if extension == ".cube":
        return _grade_values(Grade(lut=_stored_lut(cube_parse(_text(data, name), name), name)))
    if extension in CDL_FILE_EXTENSIONS:
        corrections = cdl_file_parse(data, name)
        if correction_id is not None:
            if correction_id not in corrections:
                raise SpecError(f"{name}: no ColorCorrection with id {correction_id!r} "
                                f"(ids: {', '.join(list(corrections)[:20])})")
            return GradeValues(cdl=corrections[correction_id].to_dict())
        if len(corrections) > 1:
            raise SpecError(f"{name}: holds {len(corrections)} corrections; choose one by its id "
                            f"({', '.join(list(corrections)[:20])})")
        return GradeValues(cdl=next(iter(corrections.values())).to_dict())
    try:
        parsed = json.loads(_text(data, name), parse_constant=lambda constant: math.nan)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{name}: line {exc.lineno}: malformed JSON ({exc.msg})") from None
    try:
        grade = Grade.from_dict(parsed)
    except SpecError as exc:
        raise SpecError(f"{name}: {exc}") from None
    lut = None if grade.lut is None else _stored_lut(grade.lut, name)
    return _grade_values(Grade(cdl=grade.cdl, lut=lut))


def grade_file_corrections(data: bytes, *, name: str) -> dict[str, dict[str, Any]]:
    """Every colour correction of a .cdl/.cc/.ccc file's content, by id in file order (a
    correction without an id is keyed by its position, "0", "1", ...). ``SpecError`` otherwise."""
    from restoration.colour.cdl_files import cdl_file_parse

    if _extension(name) not in CDL_FILE_EXTENSIONS:
        raise SpecError(f"{name}: a file of several corrections is a .ccc, .cdl or .cc file")
    return {key: cdl.to_dict() for key, cdl in cdl_file_parse(data, name).items()}


def grade_file_write(values: GradeValues, *, extension: str, correction_id: str = "grade", title: str = "grade"
                     ) -> bytes:
    """A grade as a file's content. ``.cdl``/``.cc``/``.ccc``: the CDL alone (an ASC file has no
    place for a LUT); ``.cube``: the whole grade (CDL then LUT) baked into one 33-point LUT, exact
    at its lattice points; ``.json``: the engine's grade JSON (CDL and LUT, lossless)."""
    import json

    from restoration.colour.cdl_files import cdl_file_text
    from restoration.colour.grade import grade_bake
    from restoration.colour.lut import cube_text

    extension = _extension(f"grade{extension.lower()}")
    grade = _engine_grade(values)
    if extension in CDL_FILE_EXTENSIONS:
        return cdl_file_text(grade.cdl, extension=extension, correction_id=correction_id).encode("utf-8")
    if extension == ".cube":
        return cube_text(grade_bake(grade, GRADE_LUT_SIZE), title=title).encode("utf-8")
    return (json.dumps(grade.to_dict(), separators=(",", ":")) + "\n").encode("utf-8")


def cdl_collection_write(corrections: dict[str, dict[str, Any]], *, extension: str = ".ccc") -> bytes:
    """Many CDLs (by correction id, in order) as one .ccc (or .cdl) file's content."""
    from restoration.colour.cdl import Cdl
    from restoration.colour.cdl_files import cdl_file_text

    if extension not in (".ccc", ".cdl"):
        raise SpecError(f"a collection of corrections is a .ccc or .cdl file, not {extension!r}")
    return cdl_file_text({key: Cdl.from_dict(dict(cdl)) for key, cdl in corrections.items()},
                         extension=extension).encode("utf-8")


def grade_lut(values: GradeValues, *, baked: bool = False) -> GradeLut:
    """A 33-point LUT for a preview: the grade's own LUT (the identity when it has none), to be
    applied after the CDL; or, ``baked``, the whole grade as one LUT (exact at the lattice points
    only: between them the CDL's power curve is interpolated)."""
    from restoration.colour.grade import grade_bake
    from restoration.colour.lut import identity_lut

    grade = _engine_grade(values)
    if baked:
        return _grade_lut_values(grade_bake(grade, GRADE_LUT_SIZE))
    return _grade_lut_values(grade.lut if grade.lut is not None else identity_lut(GRADE_LUT_SIZE))


def grade_colours(values: GradeValues, colours: Sequence[Sequence[float]]) -> list[list[float]]:
    """RGB colours in [0, 1] through the grade, as the engine applies it to frames (for checking a
    preview's maths against the engine's)."""
    import torch

    from restoration.colour.grade import grade_apply

    rgb = torch.tensor([list(map(float, colour)) for colour in colours], dtype=torch.float64)
    if rgb.ndim != 2 or rgb.shape[1] != 3:
        raise SpecError("colours must be [r, g, b] triples")
    out = grade_apply(rgb.T.reshape(1, 3, 1, -1), _engine_grade(values))
    return out.reshape(3, -1).T.tolist()


def _graded_write(frames, grade, output: str | os.PathLike, *, fps: float, bit_depth: int = 8) -> None:
    from restoration.io import VideoWriter

    with VideoWriter(output, fps=fps, bit_depth=bit_depth) as out:
        for chunk in frames.split(32):
            out.write(_grade_frames(chunk, grade))


def _grade_frames(frames, grade):
    from restoration.colour.grade import grade_apply

    return grade_apply(frames, grade).clamp(0.0, 1.0)


def still_probe(path: str | os.PathLike) -> StillInfo:
    """What a reference still is (``width``, ``height``, ``channels``, ``bit_depth``, ``format``),
    checked without torch: ``MediaError`` (one line, naming the file) for a file that is not one
    picture Pillow reads whole, or a side outside 16..16384 pixels."""
    from restoration.colour.stills import still_probe as probe_still

    return probe_still(path)


@dataclass(frozen=True)
class GradeReference:
    """A colourist's graded picture of one frame: frame ``frame`` (0-based) of the video ``scan``
    graded looks like ``still``, an image file, or, with ``still_frame``, that frame of the video
    ``still`` (another version's media). ``label`` names it in messages ("frame 12 (a.png)")."""

    scan: str | os.PathLike
    frame: int
    still: str | os.PathLike
    still_frame: int | None = None
    label: str = ""


def _reference_pictures(reference: GradeReference, number: int):
    """(frame, still) tensors (C, H, W) of a reference; a grey frame graded in colour (tinted or
    toned) is compared as RGB."""
    from restoration.colour.stills import still_read
    from restoration.io import read_frames

    label = reference.label or f"reference {number}"
    try:
        frame = read_frames(reference.scan, int(reference.frame), 1)[0]
        if reference.still_frame is None:
            still = still_read(reference.still)
        else:
            still = read_frames(reference.still, int(reference.still_frame), 1)[0]
    except RestorationError as exc:
        raise type(exc)(f"{label}: {exc}") from None
    if frame.shape[0] == 1 and still.shape[0] == 3:
        frame = frame.expand(3, -1, -1)
    elif frame.shape[0] == 3 and still.shape[0] == 1:
        raise MediaError(f"{label}: a grey still cannot grade a colour frame")
    return frame, still, label


def grade_references_register(references: Sequence[GradeReference]) -> list[dict[str, Any]]:
    """Check that each still can be registered to its frame (same picture, aspect within 2 %,
    enough overlap): the checks a fit makes first, quick enough for a request. Returns each
    registration's summary (scale, shift, score, overlap); ``RestorationError`` naming the
    reference otherwise."""
    from restoration.colour.fit import register_still

    summaries = []
    for number, reference in enumerate(references, start=1):
        frame, still, label = _reference_pictures(reference, number)
        try:
            summaries.append(register_still(frame, still).summary())
        except RestorationError as exc:
            raise RestorationError(f"{label}: {exc}") from None
    return summaries


@dataclass(frozen=True)
class GradeFitResult:
    """A fitted grade and its report (plain numbers): ``references``, ``registration``,
    ``holdout`` (CIEDE2000 on each reference left out in turn, for the CDL alone and CDL + LUT;
    null with one reference), ``fit`` and ``identity`` (on the references), ``lut`` (kept),
    ``cdl``, ``seconds``."""

    values: GradeValues
    report: dict[str, Any]


def grade_fit(references: Sequence[GradeReference], *, progress: Progress | None = None) -> GradeFitResult:
    """Learn a grade from graded reference stills: register each still to its frame, fit the CDL,
    then a smooth residual LUT kept only when it lowers the error on held-out references.
    ``RestorationError`` (one line) when a still cannot be registered or the grade would not
    generalise (held-out CIEDE2000 above 4, or the references not a CDL + smooth LUT grade).
    ``progress(done, total)`` counts the fit's steps."""
    import torch

    from restoration.colour.fit import grade_fit as fit

    references = list(references)
    if not references:
        raise RestorationError("grade fit: at least one reference still is needed")
    # One intra-op thread: the fit works on a few thousand colour pairs, where more threads only
    # spin on a shared CPU (measured 3-4x slower with two busy cores than with one thread).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pictures = [_reference_pictures(reference, number) for number, reference in enumerate(references, start=1)]
        grade, report = fit([(frame, still) for frame, still, _ in pictures],
                            labels=[label for _, _, label in pictures], progress=progress)
    finally:
        torch.set_num_threads(threads)
    return GradeFitResult(values=_grade_values(grade), report=report)


# --------------------------------------------------------------------------------------------
# Development tools: the demo film's scan and synthetic clips for benchmarks, written here so
# the web app's tools need neither torch nor the engine's internals.


@dataclass(frozen=True)
class DemoShot:
    """One shot of a demo scan: a scikit-image photograph (by name) under synthetic camera motion
    (``pan``, ``zoom``, ``shake`` or ``mixed``) with synthetic film damage (``light``, ``medium``
    or ``heavy``)."""

    source: str
    frames: int
    motion: str
    strength: str


def demo_scan_write(
    path: str | os.PathLike,
    *,
    shots: Sequence[DemoShot],
    size: tuple[int, int],
    fps: float,
    progress: Progress | None = None,
    sound: bool = False,
) -> list[tuple[int, int]]:
    """Write a damaged "scan" of ``shots`` end to end (``size`` is (height, width)) and return each
    shot's inclusive ``(start_frame, end_frame)``. Shot n (from 1) is seeded n for its motion and
    1000 + n for its damage, so the same shots give the same file. A photograph scikit-image
    cannot load without a download is replaced by the next unused one. With ``sound``, the scan
    has a 48 kHz stereo 16-bit track (``demo_sound``): a tone per shot, a click on each cut."""
    import torch

    from restoration.degrade import clean_sources, degrade, synthetic_clip
    from restoration.io import VideoWriter

    sources = dict(clean_sources())
    names = _demo_photographs(list(sources), shots)
    total = sum(shot.frames for shot in shots)
    cuts: list[tuple[int, int]] = []
    first = 0
    # One intra-op thread: as fast on frames this small, and many times faster on a shared CPU,
    # where extra OpenMP threads spin waiting for cores (measured: 2 s against 42 s a shot).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with VideoWriter(path, fps=fps, sound=((DEMO_SOUND_RATE, "stereo", 16),) if sound else ()) as scan:
            for number, (shot, name) in enumerate(zip(shots, names, strict=True), start=1):
                image = sources[name]
                colour = image.expand(3, -1, -1) if image.shape[0] == 1 else image[:3]
                clean = synthetic_clip(colour, frames=shot.frames, size=size, seed=number, motion=shot.motion)
                damage = degrade(clean, seed=1000 + number, strength=shot.strength)
                scan.write(damage.damaged.clamp(0, 1))
                if sound:
                    scan.write_sound(0, demo_sound(number, first, first + shot.frames, fps=fps))
                cuts.append((first, first + shot.frames - 1))
                first += shot.frames
                if progress is not None:
                    progress(first, total)
    finally:
        torch.set_num_threads(threads)
    return cuts


DEMO_SOUND_RATE = 48_000


def demo_sound(shot_number: int, start_frame: int, end_frame: int, *, fps: float):
    """The demo scan's sound for frames ``start_frame .. end_frame-1`` (one shot, numbered from 1)
    as (n, 2) int32 samples at full scale: a tone of 220 * (1 + shot_number / 4) Hz at a quarter
    of full scale, and a click (full scale for 2 ms) on the shot's first frame, so a delivery's
    sync can be checked by ear and by test."""
    import numpy as np

    from restoration.io import _rate_fraction

    rate = _rate_fraction(float(fps))
    first = round(start_frame * DEMO_SOUND_RATE / rate)
    count = round(end_frame * DEMO_SOUND_RATE / rate) - first
    seconds = np.arange(count) / DEMO_SOUND_RATE
    wave = 0.25 * np.sin(2 * np.pi * 220.0 * (1 + shot_number / 4) * seconds)
    wave[: DEMO_SOUND_RATE // 500] = 0.99
    samples = np.round(wave * 2.0**31).astype(np.int32)
    return np.ascontiguousarray(np.stack([samples, samples], axis=1))


def _demo_photographs(available: list[str], shots: Sequence[DemoShot]) -> list[str]:
    """The planned photograph of each shot, or the next unused one when scikit-image lacks it."""
    chosen: list[str] = []
    spare = [name for name in available if name not in {shot.source for shot in shots}]
    for shot in shots:
        if shot.source in available:
            chosen.append(shot.source)
        elif spare:
            chosen.append(spare.pop(0))
        else:
            chosen.append(available[len(chosen) % len(available)])
    return chosen


def demo_graded_still_write(
    scan: str | os.PathLike,
    frame: int,
    output: str | os.PathLike,
    *,
    cdl: dict[str, Any] | None = None,
    twist: float = 1.0,
    shift: tuple[float, float] = (3.0, -2.0),
    zoom: float = 1.03,
    quality: int | None = 90,
) -> dict[str, Any]:
    """Write what a colourist would hand over for frame ``frame`` (0-based) of ``scan``: the frame
    under a known look (``cdl``, default a warm print look, then a ``twist`` no CDL expresses:
    an S-curve and hue shifts), from "another transfer" (shifted ``shift`` pixels, magnified
    ``zoom``, 8-bit JPEG at ``quality``; None: uncompressed), saved as an image file (its
    extension picks the format, e.g. .png). Returns the CDL used."""
    import numpy as np
    from PIL import Image

    from restoration.colour.cdl import Cdl
    from restoration.colour.references import KNOWN_CDL, known_look, reference_still
    from restoration.io import read_frames

    look = KNOWN_CDL if cdl is None else Cdl.from_dict(dict(cdl))
    picture = read_frames(scan, int(frame), 1)
    if picture.shape[1] == 1:
        picture = picture.expand(-1, 3, -1, -1)  # a grey scan graded in colour (a tint)
    still = reference_still(known_look(picture, look, twist=twist)[0], shift=shift, zoom=zoom, quality=quality)
    array = (still.clamp(0, 1) * 255.0 + 0.5).byte().permute(1, 2, 0).numpy()
    Image.fromarray(np.ascontiguousarray(array), "RGB").save(output)
    return look.to_dict()


# noise: uniform random pictures (every frame unlike the last: the worst case for a codec);
# moving_texture: photographic-looking detail (smooth noise at several scales) moving a few pixels a frame.
CLIP_KINDS = ("noise", "moving_texture")


def synthetic_clip_write(
    path: str | os.PathLike,
    *,
    kind: str,
    frames: int,
    height: int,
    width: int,
    seed: int = 0,
    fps: float = 24.0,
    codec: str | None = None,
    shift_px: int = 3,
) -> ProbeInfo:
    """Write a synthetic RGB clip for benchmarks and tests (``kind`` one of ``CLIP_KINDS``) and
    return its probe. ``shift_px``: how far the moving texture moves each frame (down by
    ``shift_px``, right by twice that). ``codec`` as ``io.VideoWriter`` (default from the extension)."""
    import torch

    from restoration.errors import RestorationError
    from restoration.io import VideoWriter
    from restoration.io import probe as io_probe

    if kind not in CLIP_KINDS:
        raise RestorationError(f"kind must be one of {', '.join(CLIP_KINDS)}, got {kind!r}")
    generator = torch.Generator().manual_seed(seed)
    with VideoWriter(path, fps=fps, codec=codec) as out:
        if kind == "noise":
            out.write(torch.rand(frames, 3, height, width, generator=generator))
        else:
            texture = _moving_texture(height, width, generator)
            for index in range(frames):  # a frame at a time: a long 1080p clip stays small in memory
                out.write(torch.roll(texture, shifts=(index * shift_px, index * 2 * shift_px), dims=(2, 3)))
    return io_probe(path)


def _moving_texture(height: int, width: int, generator):
    import torch
    import torch.nn.functional as F

    base = torch.zeros(1, 3, height, width)
    for scale, weight in ((64, 0.5), (16, 0.3), (4, 0.2)):
        coarse = torch.rand(1, 3, height // scale + 2, width // scale + 2, generator=generator)
        base += weight * F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    return base.clamp(0, 1)
