"""Adaptive-quality delivery encodes: each shot at the highest CRF that keeps a quality target.

Each shot is encoded on its own (so it starts on a keyframe) at a few CRFs chosen by
``search.search_crf``, each encode measured against the master; the chosen encodes' packets
are then joined, timestamps shifted, into one stream: nothing is encoded twice. Candidates live
in a hidden temporary folder beside the output; the output is written under a temporary name
and renamed, so a failure or a cancel leaves neither.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import torch

from restoration.encode.codecs import TUNE_FOR_TARGET, DeliveryCodec, check_preset, delivery_codec
from restoration.encode.quality import PIX_FMT, ShotMeter, to_delivery_frames
from restoration.encode.search import SearchResult, Trial, search_crf
from restoration.encode.targets import QualityTarget, parse_target
from restoration.errors import MediaError, RestorationError, SpecError
from restoration.io import ProbeInfo, _rate_fraction, iter_chunks, probe

# Output containers; MP4 is written with its index first (+faststart) for progressive playback.
MUXER_BY_EXTENSION = {".mp4": "mp4", ".mkv": "matroska"}
# Frames a step; a shot whose master pictures fit in this many bytes is decoded once, not per encode.
CHUNK = 16
SHOT_CACHE_BYTES = 512 * 2**20
# SVT-AV1 needs a picture at least this big; every codec here needs even sides (4:2:0).
MIN_SIDE = 64

Progress = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class ShotEncode:
    """One shot of a delivery: frames ``start_frame .. end_frame`` (inclusive) at ``crf``, its
    measured ``quality``; ``capped``: ``crf`` is the codec's highest and the shot still beats the
    target (it cannot come nearer); ``trials`` are the search's encodes (crf, quality) in order."""

    start_frame: int
    end_frame: int
    crf: float
    quality: float
    trials: tuple[Trial, ...] = ()
    capped: bool = False

    def to_dict(self) -> dict[str, Any]:
        crf = int(self.crf) if float(self.crf).is_integer() else self.crf
        return {"start_frame": self.start_frame, "end_frame": self.end_frame, "crf": crf,
                "quality": round(self.quality, 6), "capped": self.capped}


@dataclass(frozen=True)
class EncodeResult:
    """What ``encode_adaptive`` wrote: ``bytes`` (the file's size) and each shot's CRF and quality."""

    path: str
    codec: str
    target: str
    bytes: int
    shots: tuple[ShotEncode, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "shots": [shot.to_dict() for shot in self.shots]}


def check_options(codec: object, target: object, preset: object = None) -> tuple[DeliveryCodec, QualityTarget, str]:
    """The codec, target and preset checked (``SpecError`` naming the bad field); preset None is medium."""
    checked = delivery_codec(codec)
    return checked, parse_target(target), check_preset(checked, "medium" if preset is None else preset)


def check_spans(spans: object, frame_count: int) -> list[tuple[int, int]]:
    """Shots as inclusive ``(start, end)`` pairs, or ``{"start_frame", "end_frame"}`` mappings,
    checked to cover frames 0 .. frame_count-1 end to end. ``SpecError`` naming the shot otherwise."""
    if isinstance(spans, Mapping) and "shots" in spans:
        spans = spans["shots"]  # the analysis' whole report
    if isinstance(spans, str | bytes) or not isinstance(spans, Sequence) or not spans:
        raise SpecError("shots: expected a non-empty list of shots")
    checked: list[tuple[int, int]] = []
    for number, shot in enumerate(spans, start=1):
        if isinstance(shot, Mapping):
            pair = (shot.get("start_frame"), shot.get("end_frame"))
        elif isinstance(shot, Sequence) and not isinstance(shot, str | bytes) and len(shot) == 2:
            pair = tuple(shot)
        else:
            raise SpecError(f"shots: shot {number} must have start_frame and end_frame")
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in pair):
            raise SpecError(f"shots: shot {number}'s start_frame and end_frame must be whole numbers, got {pair!r}")
        start, end = pair
        expected = checked[-1][1] + 1 if checked else 0
        if start != expected:
            where = "the clip's first frame 0" if not checked else f"frame {expected}, after shot {number - 1}"
            raise SpecError(f"shots: shot {number} starts at frame {start}, expected {where} (shots must cover the clip end to end)")
        if end < start:
            raise SpecError(f"shots: shot {number} ends at frame {end}, before its start {start}")
        if end >= frame_count:
            raise SpecError(f"shots: shot {number} ends at frame {end}, the clip has {frame_count} frames")
        checked.append((start, end))
    if checked[-1][1] != frame_count - 1:
        raise SpecError(f"shots: the last shot ends at frame {checked[-1][1]}, the clip's last frame is {frame_count - 1}")
    return checked


def read_shots_file(path: str | os.PathLike, frame_count: int) -> list[tuple[int, int]]:
    """A JSON shots file: a list of ``{"start_frame", "end_frame"}`` (or the analysis' report)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"shots: cannot read {path} ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise SpecError(f"shots: {path} is not JSON ({str(exc).splitlines()[0]})") from None
    return check_spans(data, frame_count)


def _check_output(output: str | os.PathLike) -> Path:
    path = Path(output)
    if path.suffix.lower() not in MUXER_BY_EXTENSION:
        raise MediaError(f"{path}: unsupported output extension {path.suffix or '(none)'!r}; use .mp4 or .mkv")
    if path.is_dir():
        raise MediaError(f"{path}: is a folder, not a file name")
    if not path.parent.is_dir():
        raise MediaError(f"{path}: output folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise MediaError(f"{path}: output folder {path.parent} is not writable")
    return path


def _check_picture(info: ProbeInfo) -> None:
    if info.width % 2 or info.height % 2:
        raise MediaError(f"{info.path}: delivery encodes (4:2:0) need even width and height, got {info.width}x{info.height}")
    if min(info.width, info.height) < MIN_SIDE:
        raise MediaError(f"{info.path}: {info.width}x{info.height} is too small to deliver (at least {MIN_SIDE} pixels each way)")


def encode_adaptive(
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    codec: str,
    target: str,
    shots: Sequence[Any] | None = None,
    preset: str | None = "medium",
    progress: Progress | None = None,
    tune: bool = TUNE_FOR_TARGET,
) -> EncodeResult:
    """Encode ``source`` into ``output`` (.mp4 or .mkv) with ``codec`` (h264, hevc, av1), each shot
    at the highest CRF whose quality against ``source`` meets ``target`` (``"ssim:0.97"``,
    ``"psnr:40"``, ``"xpsnr:38"``) and starting on a keyframe. ``shots``: inclusive spans as
    ``check_spans`` takes them; None: the analysis finds them. ``progress(done, total)`` counts
    the frames of finished shots (called after each encode; it may raise to cancel). ``tune``:
    the encoder tuned for the target's metric (``codecs.TUNES``), else its default tuning.
    ``RestorationError`` for bad options, input or shots, or a target a shot cannot reach."""
    delivery, quality_target, preset_name = check_options(codec, target, preset)
    output_path = _check_output(output)
    info = probe(source)
    _check_picture(info)
    if output_path.exists() and output_path.resolve() == Path(info.path).resolve():
        raise MediaError(f"{output_path}: the output would replace the master it is encoded from")
    if shots is None:
        from restoration.analysis import analyse

        spans = [(shot["start_frame"], shot["end_frame"]) for shot in analyse(source)["shots"]]
    else:
        spans = check_spans(shots, info.frame_count)
    tune_for = quality_target.metric if tune else None
    workspace = Path(tempfile.mkdtemp(prefix=f".{output_path.name}.encode-", dir=output_path.parent))
    try:
        encoded: list[ShotEncode] = []
        chosen: list[Path] = []
        previous_crf: float | None = None
        for number, (start, end) in enumerate(spans, start=1):
            master = _ShotMaster(info, start, end)

            def trial(crf: float, *, master=master, number=number, start=start) -> float:
                path = workspace / f"shot{number:05d}-crf{crf:g}.mp4"
                _encode_shot(master, path, delivery, crf, preset_name, tune_for)
                if progress is not None:
                    progress(start, info.frame_count)
                return _measure(master, path, quality_target)

            result = search_crf(trial, delivery, quality_target, start=previous_crf)
            if result.crf is None:
                best = result.best()
                raise RestorationError(
                    f"shot {number} (frames {start}-{end}): {quality_target} cannot be reached with {delivery.name}; "
                    f"the best is {quality_target.metric} {best.quality:.4f} at crf {best.crf:g}")
            previous_crf = result.crf
            encoded.append(ShotEncode(start, end, result.crf, result.quality_at(result.crf), result.trials,
                                      capped=result.capped))
            chosen.append(workspace / f"shot{number:05d}-crf{result.crf:g}.mp4")
            _drop_other_trials(workspace, number, result)
            if progress is not None:
                progress(end + 1, info.frame_count)
        _join(chosen, output_path, delivery, info, [start for start, _ in spans])
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return EncodeResult(path=str(output_path), codec=delivery.name, target=str(quality_target),
                        bytes=output_path.stat().st_size, shots=tuple(encoded))


def _drop_other_trials(workspace: Path, number: int, result: SearchResult) -> None:
    for trial in result.trials:
        if trial.crf != result.crf:
            (workspace / f"shot{number:05d}-crf{trial.crf:g}.mp4").unlink(missing_ok=True)


class _ShotMaster:
    """A shot's master frames as (float frames, delivery YUV pictures) chunks, decoded once and
    kept when small, else decoded again for each pass."""

    def __init__(self, info: ProbeInfo, start: int, end: int):
        self.info, self.start, self.end = info, start, end
        frames = end - start + 1
        size = frames * info.width * info.height * (4 * info.channels + 2)
        self._kept: list[tuple[torch.Tensor, list[av.VideoFrame]]] | None = [] if size <= SHOT_CACHE_BYTES else None
        self._complete = False

    def chunks(self) -> Iterator[tuple[torch.Tensor, list[av.VideoFrame]]]:
        if self._complete:
            yield from self._kept
            return
        for _, frames in iter_chunks(self.info.path, CHUNK, start=self.start, end=self.end + 1):
            chunk = (frames, to_delivery_frames(frames))
            if self._kept is not None:
                self._kept.append(chunk)
            yield chunk
        self._complete = self._kept is not None


def _encode_shot(master: _ShotMaster, path: Path, codec: DeliveryCodec, crf: float, preset: str,
                 tune_for: str | None) -> None:
    rate = _rate_fraction(master.info.fps)
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints a banner per encode unless told: errors only
    try:
        with av.open(str(path), mode="w", format="mp4") as container:
            stream = container.add_stream(codec.encoder, rate=rate)
            stream.width, stream.height, stream.pix_fmt = master.info.width, master.info.height, PIX_FMT
            context = stream.codec_context
            context.time_base = 1 / rate
            context.colorspace = context.color_primaries = context.color_trc = 1  # BT.709
            context.color_range = 1  # limited ("tv")
            stream.options = codec.options(crf, preset, tune_for)
            number = 0
            for _, pictures in master.chunks():
                for picture in pictures:
                    picture.pts, picture.time_base = number, context.time_base
                    number += 1
                    container.mux(stream.encode(picture))
            container.mux(stream.encode(None))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{codec.encoder} failed on frames {master.start}-{master.end} at crf {crf:g} ({exc})") from None


def _decoded_chunks(path: Path, sizes: Iterator[int]) -> Iterator[list[av.VideoFrame]]:
    with av.open(str(path)) as container:
        frames = container.decode(video=0)
        for size in sizes:
            chunk = [picture for _, picture in zip(range(size), frames, strict=False)]
            if len(chunk) != size:
                raise MediaError(f"{path.name}: the encode has fewer frames than its shot")
            yield chunk
        if next(frames, None) is not None:
            raise MediaError(f"{path.name}: the encode has more frames than its shot")


def _measure(master: _ShotMaster, path: Path, target: QualityTarget) -> float:
    meter = ShotMeter(target, width=master.info.width, height=master.info.height, channels=master.info.channels)
    source = master.chunks()
    pending: list[tuple[torch.Tensor, list[av.VideoFrame]]] = []

    def sizes() -> Iterator[int]:
        for chunk in source:
            pending.append(chunk)
            yield chunk[0].shape[0]

    for decoded in _decoded_chunks(path, sizes()):
        frames, pictures = pending.pop(0)
        meter.add(frames, pictures, decoded)
    values = meter.finish()
    return sum(values) / len(values)


def encode_single_crf(source: str | os.PathLike, output: str | os.PathLike, *, codec: str, crf: float,
                      preset: str = "medium", tune_for: str | None = None) -> int:
    """One plain encode of the whole of ``source`` at one CRF (the encoder's own keyframes), in the
    same picture format as ``encode_adaptive`` and tuned for the metric ``tune_for`` as it is
    (None: the encoder's default): what an adaptive encode is compared with. Returns the bytes
    written."""
    delivery, _, preset_name = check_options(codec, "ssim:0.5", preset)
    output_path = _check_output(output)
    info = probe(source)
    _check_picture(info)
    temporary = output_path.parent / f".{output_path.name}.{uuid.uuid4().hex[:12]}.partial.mp4"
    try:
        _encode_shot(_ShotMaster(info, 0, info.frame_count - 1), temporary, delivery, crf, preset_name, tune_for)
        os.replace(temporary, output_path)
    finally:
        temporary.unlink(missing_ok=True)
    return output_path.stat().st_size


def shot_qualities(source: str | os.PathLike, encoded: str | os.PathLike, target: str,
                   spans: Sequence[tuple[int, int]]) -> list[float]:
    """Each shot's quality (``target``'s metric, as the search measures it) of ``encoded``, any
    encode of ``source`` with the same frames, e.g. one made at a single CRF."""
    quality_target = parse_target(target)
    info = probe(source)
    spans = check_spans(spans, info.frame_count)
    qualities = []
    with av.open(str(encoded)) as container:
        pictures = container.decode(video=0)
        for start, end in spans:
            master = _ShotMaster(info, start, end)
            meter = ShotMeter(quality_target, width=info.width, height=info.height, channels=info.channels)
            for frames, master_yuv in master.chunks():
                decoded = [picture for _, picture in zip(range(frames.shape[0]), pictures, strict=False)]
                if len(decoded) != frames.shape[0]:
                    raise MediaError(f"{encoded}: fewer frames than {source}")
                meter.add(frames, master_yuv, decoded)
            values = meter.finish()
            qualities.append(sum(values) / len(values))
    return qualities


def _join(files: Sequence[Path], output: Path, codec: DeliveryCodec, info: ProbeInfo, starts: Sequence[int]) -> None:
    """The shots' packets end to end into ``output`` (written under a temporary name, then renamed)."""
    rate = _rate_fraction(info.fps)
    frame_time = Fraction(rate.denominator, rate.numerator)
    muxer = MUXER_BY_EXTENSION[output.suffix.lower()]
    temporary = output.parent / f".{output.name}.{uuid.uuid4().hex[:12]}.partial"
    options = {"movflags": "+faststart"} if muxer == "mp4" else {}
    try:
        with av.open(str(temporary), mode="w", format=muxer, options=options) as joined:
            stream = None
            headers = None
            for path, first_frame in zip(files, starts, strict=True):
                with av.open(str(path)) as shot:
                    source = shot.streams.video[0]
                    if stream is None:
                        stream = joined.add_stream_from_template(source, opaque=True)  # the AV1 decoder has no encoder twin
                        stream.time_base = frame_time
                        if codec.name == "hevc" and muxer == "mp4":
                            stream.codec_tag = "hvc1"  # what Apple's players ask for
                        headers = bytes(source.codec_context.extradata or b"")
                    elif bytes(source.codec_context.extradata or b"") != headers:
                        raise MediaError(f"{codec.encoder} wrote different stream headers for the shot at frame "
                                         f"{first_frame}; the shots cannot be joined")
                    for packet in shot.demux(source):
                        if packet.size == 0:
                            continue  # the demuxer's end-of-stream marker
                        packet.pts = first_frame + _frames(packet.pts, source.time_base, frame_time)
                        packet.dts = first_frame + _frames(packet.dts, source.time_base, frame_time)
                        packet.duration = 1
                        packet.time_base = frame_time
                        packet.stream = stream
                        joined.mux(packet)
        os.replace(temporary, output)
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"{output}: could not write the delivery ({exc})") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    written = probe(output)
    if written.frame_count != info.frame_count:
        output.unlink(missing_ok=True)
        raise MediaError(f"{output}: the delivery has {written.frame_count} frames, the master {info.frame_count}")


def _frames(timestamp: int | None, time_base: Fraction, frame_time: Fraction) -> int:
    """A packet timestamp as a frame number (rounded: a container's clock may not count whole frames)."""
    if timestamp is None:
        raise MediaError("an encoded packet has no timestamp")
    return round(timestamp * time_base / frame_time)
