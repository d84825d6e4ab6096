"""Video I/O: probe, frame-exact decode and seek, lossless and delivery encodes (PyAV); image
sequences (DPX, TIFF, PNG, OpenEXR: ``restoration.sequence``) behind the same ``probe``,
``read_frames``, ``iter_chunks`` and ``open_writer``.

Frames are float32 tensors ``(T, C, H, W)`` in [0, 1]; C is 1 for grey footage and 3 for
colour. Frame numbers count from the file's first frame.

Frame-exact access rests on a per-file *frame index*: the video packets' timestamps, read by
demuxing the whole file once without decoding (fast: no pixels are touched) and sorted into
presentation order. Frame ``n`` is the packet with the n-th smallest timestamp, whatever the
codec's decode order (H.264 B-frames) or the container's seeking rules. To read it we seek
to the last keyframe at or before it and decode forward, matching decoded frames by their
timestamp. The index is cached per (path, size, mtime).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from restoration import sequence as image_sequence
from restoration.errors import MediaError
from restoration.x264 import x264_options

__all__ = [
    "ProbeInfo",
    "probe",
    "read_frames",
    "iter_chunks",
    "SoundReader",
    "VideoWriter",
    "encoder_reserve_bytes",
    "open_writer",
    "sound_mux",
    "write_video",
    "cli_probe",
]

# Largest picture side we accept: 16K scans exist, anything bigger is a broken header.
MAX_SIDE = 16384
# Chroma further than this from neutral (fraction of full scale) in any sampled frame means colour.
GREY_TOLERANCE = 0.01
# How many keyframes spread over the file are decoded to tell grey footage stored as YUV/RGB.
GREY_SAMPLE_FRAMES = 5

CODEC_BY_EXTENSION = {".mkv": "ffv1", ".mov": "prores", ".mp4": "h264"}
MUXER_BY_EXTENSION = {".mkv": "matroska", ".mov": "mov", ".mp4": "mp4"}
# Codecs each container may carry (MP4 holds only H.264 here: ProRes/FFV1 in MP4 are not portable).
CODECS_BY_EXTENSION = {".mkv": {"ffv1", "prores", "h264"}, ".mov": {"ffv1", "prores", "h264"}, ".mp4": {"h264"}}
ENCODER_NAMES = {"ffv1": "ffv1", "prores": "prores_ks", "h264": "libx264"}


@dataclass(frozen=True)
class ProbeInfo:
    path: str
    container: str
    codec: str
    width: int
    height: int
    fps: float
    frame_count: int
    bit_depth: int
    pix_fmt: str
    channels: int
    duration: float
    # One (sample_rate, channel layout, bits) per audio stream, in stream order (bits: 16 or 24,
    # the depth it is kept at: 24 for anything deeper than 16-bit integers).
    audio: tuple[tuple[int, str, int], ...] = ()
    # Image sequences only: the pattern, frame-number range, stored depth, DPX transfer and header.
    sequence: image_sequence.SequenceInfo | None = None

    def to_dict(self) -> dict:
        fields = asdict(self)
        if fields["sequence"] is None:  # a video file's probe reads as it always did
            del fields["sequence"]
        return fields


@dataclass(frozen=True)
class _FrameIndex:
    """Where each frame is: presentation timestamps and the keyframes to seek to."""

    stream_index: int
    pts: np.ndarray  # (N,) int64, sorted: frame n has timestamp pts[n]
    keyframe_numbers: np.ndarray  # (K,) frame numbers of keyframes, sorted
    keyframe_seek_ts: np.ndarray  # (K,) timestamp to seek to for each keyframe (min of its pts, dts)


# ---------------------------------------------------------------------------------------------
# Opening and indexing


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return exc.strerror  # without the errno number and the repeated file name
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_input_path(path: str | os.PathLike) -> Path:
    file = Path(path)
    if not file.exists():
        raise MediaError(f"{file}: no such file")
    if not file.is_file():
        raise MediaError(f"{file}: not a file")
    if file.stat().st_size == 0:
        raise MediaError(f"{file}: empty file, not a video")
    return file


def _open_input(file: Path) -> av.container.InputContainer:
    try:
        return av.open(str(file), mode="r")
    except av.error.EOFError:
        raise MediaError(f"{file}: no video frames (the file ends after its header)") from None
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"{file}: not a readable video file ({_one_line(exc)})") from None


def _video_stream(container, file: Path):
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["no streams"]
        raise MediaError(f"{file}: no video stream (has {', '.join(kinds)})")
    stream = container.streams.video[0]
    return stream


def _is_grey_format(pix_fmt: str) -> bool:
    return pix_fmt.startswith(("gray", "ya", "y400", "monob", "monow"))


def _bit_depth_of(pix_fmt: str) -> int:
    try:
        return max(component.bits for component in av.VideoFormat(pix_fmt).components)
    except (ValueError, TypeError):
        return 8


def _build_index(container, stream, file: Path) -> _FrameIndex:
    timestamps: list[int] = []
    seek_ts: list[int] = []
    is_key: list[bool] = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue  # the demuxer's end-of-stream marker, or pre-roll the decoder drops
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                raise MediaError(f"{file}: video packets carry no timestamps; cannot index frames")
            timestamps.append(ts)
            is_key.append(bool(packet.is_keyframe))
            seek_ts.append(min(ts, packet.dts) if packet.dts is not None else ts)
    except av.error.FFmpegError as exc:
        raise MediaError(f"{file}: corrupt or truncated video ({_one_line(exc)})") from None
    if not timestamps:
        raise MediaError(f"{file}: the video stream has no frames")
    pts = np.asarray(timestamps, dtype=np.int64)
    order = np.argsort(pts, kind="stable")
    sorted_pts = pts[order]
    if np.any(np.diff(sorted_pts) == 0):
        raise MediaError(f"{file}: several frames share one timestamp; cannot index frames exactly")
    frame_number_of_packet = np.empty_like(order)
    frame_number_of_packet[order] = np.arange(len(order))
    key_packets = np.flatnonzero(np.asarray(is_key))
    if key_packets.size == 0:
        raise MediaError(f"{file}: the video stream has no keyframe")
    key_numbers = frame_number_of_packet[key_packets]
    key_order = np.argsort(key_numbers)
    return _FrameIndex(
        stream_index=stream.index,
        pts=sorted_pts,
        keyframe_numbers=key_numbers[key_order],
        keyframe_seek_ts=np.asarray(seek_ts, dtype=np.int64)[key_packets][key_order],
    )


def _declared_duration(container, stream) -> float | None:
    """The video duration the header promises (to detect a truncated tail), when it says one."""
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")  # Matroska per-track tag
    if tag:
        try:
            hours, minutes, seconds = tag.split(":")
            return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        except ValueError:
            return None
    if len(container.streams) == 1 and container.duration:
        return container.duration / av.time_base
    return None


def _frame_rate(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return 0.0


def _chroma_is_neutral(frame, high_bit: bool) -> bool:
    rgb = frame.to_ndarray(format="rgb48le" if high_bit else "rgb24").astype(np.int32)
    full_scale = 65535 if high_bit else 255
    spread = max(np.abs(rgb[..., 0] - rgb[..., 1]).max(), np.abs(rgb[..., 2] - rgb[..., 1]).max())
    return spread <= GREY_TOLERANCE * full_scale


def _looks_grey(file: Path, index: _FrameIndex, high_bit: bool) -> bool:
    """Grey footage is often stored as YUV with neutral chroma (H.264, ProRes): check a few frames."""
    keys = index.keyframe_numbers
    picks = sorted({int(keys[round(i * (len(keys) - 1) / max(GREY_SAMPLE_FRAMES - 1, 1))]) for i in range(GREY_SAMPLE_FRAMES)})
    with _open_input(file) as container:
        stream = container.streams[index.stream_index]
        for number in picks:
            position = int(np.searchsorted(keys, number))
            try:
                container.seek(int(index.keyframe_seek_ts[position]), stream=stream, backward=True)
                frame = next(container.decode(stream), None)
            except av.error.FFmpegError as exc:
                raise MediaError(f"{file}: corrupt video ({_one_line(exc)})") from None
            if frame is None:
                raise MediaError(f"{file}: could not decode frame {number}")
            if not _chroma_is_neutral(frame, high_bit):
                return False
    return True


_INSPECT_CACHE: OrderedDict[tuple, tuple[ProbeInfo, _FrameIndex]] = OrderedDict()
_INSPECT_CACHE_SIZE = 64
_INSPECT_CACHE_LOCK = threading.Lock()  # workers may read from several threads


def _inspect(path: str | os.PathLike) -> tuple[ProbeInfo, _FrameIndex]:
    file = _check_input_path(path)
    stat = file.stat()
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    with _INSPECT_CACHE_LOCK:
        if key in _INSPECT_CACHE:
            _INSPECT_CACHE.move_to_end(key)
            return _INSPECT_CACHE[key]

    with _open_input(file) as container:
        stream = _video_stream(container, file)
        codec_context = stream.codec_context
        width, height = int(codec_context.width or 0), int(codec_context.height or 0)
        if width <= 0 or height <= 0:
            raise MediaError(f"{file}: the video stream has no picture size")
        if width > MAX_SIDE or height > MAX_SIDE:
            raise MediaError(f"{file}: absurd picture size {width}x{height} (largest side allowed is {MAX_SIDE})")
        pix_fmt = codec_context.pix_fmt
        if pix_fmt is None:
            raise MediaError(f"{file}: unknown pixel format (codec {codec_context.name} not decodable)")
        fps = _frame_rate(stream)
        if not (fps > 0 and math.isfinite(fps)):
            raise MediaError(f"{file}: the video stream has no frame rate")
        container_name = container.format.name
        codec_name = codec_context.name
        declared_seconds = _declared_duration(container, stream)
        index = _build_index(container, stream, file)
        time_base = stream.time_base
        audio = tuple(_audio_stream_info(audio_stream) for audio_stream in container.streams.audio)

    if declared_seconds is not None and time_base is not None:
        found_seconds = float((int(index.pts[-1]) - int(index.pts[0])) * time_base) + 1 / fps
        if found_seconds < declared_seconds - 1.5 / fps - 0.01:
            raise MediaError(
                f"{file}: truncated: the header promises {declared_seconds:.2f} s of video, "
                f"only {found_seconds:.2f} s of frames are present"
            )

    bit_depth = _bit_depth_of(pix_fmt)
    high_bit = bit_depth > 8
    grey = _is_grey_format(pix_fmt) or _looks_grey(file, index, high_bit)
    frame_count = len(index.pts)
    info = ProbeInfo(
        path=str(file),
        container=container_name,
        codec=codec_name,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        bit_depth=16 if high_bit else 8,
        pix_fmt=pix_fmt,
        channels=1 if grey else 3,
        duration=frame_count / fps,
        audio=audio,
    )
    with _INSPECT_CACHE_LOCK:
        _INSPECT_CACHE[key] = (info, index)
        while len(_INSPECT_CACHE) > _INSPECT_CACHE_SIZE:
            _INSPECT_CACHE.popitem(last=False)
    return info, index


DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def video_start_seconds(path: str | os.PathLike) -> float:
    """When the file's first picture is presented, in seconds from the container's time zero
    (sound is timed against it)."""
    info, index = _inspect(path)
    with _open_input(Path(info.path)) as container:
        time_base = container.streams[index.stream_index].time_base
    return float(int(index.pts[0]) * time_base) if time_base is not None else 0.0


def _audio_stream_info(stream) -> tuple[int, str, int]:
    context = stream.codec_context
    sample_format = context.format
    bits = 16 if sample_format is not None and sample_format.bytes <= 2 else 24
    channels = int(context.channels or 0)
    layout = context.layout.name if context.layout else ""
    if layout.endswith("channels") or not layout:  # unspecified order (PCM in Matroska): the usual one
        layout = DEFAULT_LAYOUTS.get(channels, layout)
    return int(context.sample_rate or 0), layout, bits


def probe(path: str | os.PathLike) -> ProbeInfo:
    """Stream properties of a video file or an image sequence (a printf pattern or a folder, see
    ``restoration.sequence``). ``bit_depth`` is 8 or 16 (the depth frames are read at; ``pix_fmt``
    and, for a sequence, ``sequence.bits`` tell the stored depth). ``channels`` is 1 for grey
    footage, also when stored as YUV with neutral chroma. ``path`` is how to name the source
    again (a folder's detected pattern). Raises ``MediaError`` for anything not readable."""
    if image_sequence.is_sequence_name(path):
        return _sequence_probe(image_sequence.find(path))
    return _inspect(path)[0]


def _sequence_probe(sequence: image_sequence.Sequence) -> ProbeInfo:
    layout = sequence.layout
    fps = layout.frame_rate or image_sequence.DEFAULT_FPS
    if layout.sample == "float":
        pix_fmt = "grayf32" if layout.channels == 1 else "gbrpf32"
    elif layout.bits == 8:
        pix_fmt = "gray" if layout.channels == 1 else "rgb24"
    else:
        pix_fmt = f"gray{layout.bits}" if layout.channels == 1 else f"gbrp{layout.bits}"
    return ProbeInfo(
        path=sequence.name,
        container="image_sequence",
        codec=layout.format,
        width=layout.width,
        height=layout.height,
        fps=fps,
        frame_count=sequence.count,
        bit_depth=8 if layout.bits == 8 and layout.sample == "uint" else 16,
        pix_fmt=pix_fmt,
        channels=layout.channels,
        duration=sequence.count / fps,
        sequence=sequence.info(),
    )


# ---------------------------------------------------------------------------------------------
# Decoding


def _frame_to_array(frame, channels: int, high_bit: bool) -> np.ndarray:
    """(H, W, C) uint8 or uint16, full range (swscale undoes limited-range YUV)."""
    if channels == 1:
        array = frame.to_ndarray(format="gray16le" if high_bit else "gray")
        return array[:, :, None]
    return frame.to_ndarray(format="rgb48le" if high_bit else "rgb24")


def _frame_number(index: _FrameIndex, frame) -> int | None:
    ts = frame.pts if frame.pts is not None else frame.dts
    if ts is None:
        return None
    number = int(np.searchsorted(index.pts, ts))
    return number if number < len(index.pts) and index.pts[number] == ts else None


def _decode_arrays(file: Path, info: ProbeInfo, index: _FrameIndex, start: int, end: int) -> Iterator[np.ndarray]:
    """Yield frames start..end-1 as (H, W, C) integer arrays, exactly, in order."""
    if start >= end:
        return
    high_bit = info.bit_depth > 8
    # Start from the last keyframe at or before `start`; if the decoder nevertheless begins
    # after `start` (odd seeking rules), step back one keyframe, and finally decode from the top.
    key_position = int(np.searchsorted(index.keyframe_numbers, start, side="right")) - 1
    while True:
        expected = start
        with _open_input(file) as container:
            stream = container.streams[index.stream_index]
            stream.thread_type = "AUTO"
            try:
                if key_position >= 0 and index.keyframe_numbers[key_position] > 0:
                    container.seek(int(index.keyframe_seek_ts[key_position]), stream=stream, backward=True)
                started_late = False
                for frame in container.decode(stream):
                    number = _frame_number(index, frame)
                    if number is None or number < expected:
                        continue  # a frame before the range (or one the index skipped as pre-roll)
                    if number > expected:
                        if expected == start and key_position >= 0:
                            started_late = True
                            break
                        raise MediaError(f"{file}: frame {expected} could not be decoded (corrupt or truncated file)")
                    if frame.width != info.width or frame.height != info.height:
                        raise MediaError(
                            f"{file}: frame {number} is {frame.width}x{frame.height}, "
                            f"the stream is {info.width}x{info.height}; size changes are not supported"
                        )
                    yield _frame_to_array(frame, info.channels, high_bit)
                    expected += 1
                    if expected >= end:
                        return
            except av.error.FFmpegError as exc:
                raise MediaError(f"{file}: decoding failed near frame {expected} ({_one_line(exc)})") from None
        if started_late:
            key_position -= 1
            continue
        raise MediaError(f"{file}: frame {expected} could not be decoded (corrupt or truncated file)")


def _code_frames(arrays: list[np.ndarray]) -> torch.Tensor:
    """(H, W, C) arrays as (T, C, H, W) in their own type: integer code values (uint8, uint16),
    or float frames (EXR)."""
    height, width, channels = arrays[0].shape
    codes = torch.empty(len(arrays), channels, height, width, dtype=torch.from_numpy(arrays[0][:0]).dtype)
    for index, array in enumerate(arrays):
        codes[index] = torch.from_numpy(array).permute(2, 0, 1)
    return codes


def code_values_to_float(codes: torch.Tensor, full_scale: float | None) -> torch.Tensor:
    """Float32 frames in [0, 1] from code values, ``full_scale`` being the code that is 1.0 (255,
    65535, 1023 for 10-bit DPX); frames already float (``full_scale`` None) as they are.

    float32 holds every code value up to 16 bits exactly, and x / (2**b - 1) * (2**b - 1) rounds
    back to x, so the trip in and out is exact. One frame at a time: a chunk's integer and float
    temporaries at once took 2 GB for four 4K frames."""
    if full_scale is None:
        return codes.to(torch.float32)
    frames = torch.empty(codes.shape, dtype=torch.float32, device=codes.device)
    for index, frame in enumerate(codes):
        frames[index] = frame.to(torch.float32).div_(full_scale)
    return frames


def _check_range(info: ProbeInfo, start: int, end: int) -> None:
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0:
        raise MediaError(f"start frame must be a non-negative integer, got {start!r}")
    if start >= info.frame_count:
        raise MediaError(f"{info.path}: start frame {start} is past the end ({info.frame_count} frames)")
    if end > info.frame_count:
        raise MediaError(f"{info.path}: frames {start}..{end - 1} requested, the clip has {info.frame_count} frames")


def read_frames(path: str | os.PathLike, start: int = 0, count: int | None = None, *, device="cpu") -> torch.Tensor:
    """Frames ``start .. start+count-1`` (all remaining when ``count`` is None) as (T, C, H, W)
    float32 in [0, 1], frame-exact for any codec and container."""
    sequence = image_sequence.find(path) if image_sequence.is_sequence_name(path) else None
    info, index = (_sequence_probe(sequence), None) if sequence is not None else _inspect(path)
    if count is None:
        count = info.frame_count - start if isinstance(start, int) else 0
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
        raise MediaError(f"frame count must be a non-negative integer, got {count!r}")
    _check_range(info, start, start + count)
    if count == 0:
        return torch.zeros(0, info.channels, info.height, info.width, device=device)
    if sequence is not None:
        arrays, full_scale = image_sequence.iter_values(sequence, int(start), int(start + count)), sequence.full_scale
    else:
        arrays = _decode_arrays(Path(info.path), info, index, int(start), int(start + count))
        full_scale = _full_scale(info)
    return code_values_to_float(_code_frames(list(arrays)), full_scale).to(device)


def _full_scale(info: ProbeInfo) -> float:
    """The code value that is 1.0 in a video's decoded frames (``_frame_to_array``'s 8 or 16 bits)."""
    return 65535.0 if info.bit_depth > 8 else 255.0


def iter_chunks(
    path: str | os.PathLike, chunk_size: int = 32, *, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield ``(first_frame_number, frames)`` for frames ``start .. end-1`` (to the end when None),
    ``chunk_size`` frames at a time (the last chunk may be shorter), decoding once, in order."""
    for first, codes, full_scale in iter_code_chunks(path, chunk_size, start=start, end=end):
        yield first, code_values_to_float(codes, full_scale)


def iter_code_chunks(
    path: str | os.PathLike, chunk_size: int = 32, *, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, torch.Tensor, float | None]]:
    """As :func:`iter_chunks`, each chunk as stored: ``(first_frame_number, codes, full_scale)``,
    ``codes`` (T, C, H, W) integer code values (uint8 or uint16: a half or a quarter of float32's
    memory) and ``full_scale`` the code that is 1.0, or float frames (EXR) and None;
    ``code_values_to_float`` turns them into the float frames ``iter_chunks`` gives."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise MediaError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    sequence = image_sequence.find(path) if image_sequence.is_sequence_name(path) else None
    info, index = (_sequence_probe(sequence), None) if sequence is not None else _inspect(path)
    end = info.frame_count if end is None else end
    if isinstance(end, bool) or not isinstance(end, int | np.integer) or end <= start:
        raise MediaError(f"end frame must be an integer after start {start}, got {end!r}")
    _check_range(info, start, end)
    if sequence is not None:
        arrays, full_scale = image_sequence.iter_values(sequence, int(start), int(end)), sequence.full_scale
    else:
        arrays, full_scale = _decode_arrays(Path(info.path), info, index, int(start), int(end)), _full_scale(info)
    chunk: list[np.ndarray] = []
    first = start
    for array in arrays:
        chunk.append(array)
        if len(chunk) == chunk_size:
            yield first, _code_frames(chunk), full_scale
            first += len(chunk)
            chunk = []
    if chunk:
        yield first, _code_frames(chunk), full_scale


# ---------------------------------------------------------------------------------------------
# Sound: samples as (n, channels) int32 at full scale (16-bit sources shifted left 16 bits), so
# 16- and 24-bit PCM cross the engine exactly.

# How far ahead a read may be before the reader seeks instead of decoding its way there.
SOUND_SEEK_AHEAD_S = 10.0


def _samples_int32(frame) -> np.ndarray:
    array = frame.to_ndarray()
    channels = frame.layout.nb_channels
    array = array.T if frame.format.is_planar else array.reshape(-1, channels)
    name = frame.format.name.rstrip("p")
    if name == "s16":
        return array.astype(np.int32) << 16
    if name == "s32":
        return array.astype(np.int32)
    if name == "u8":
        return (array.astype(np.int32) - 128) << 24
    if name == "s64":
        return (array >> 32).astype(np.int32)
    if name in ("flt", "dbl"):
        return np.clip(np.round(array.astype(np.float64) * 2.0**31), -(2.0**31), 2.0**31 - 1).astype(np.int32)
    raise MediaError(f"unsupported audio sample format {frame.format.name}")


class SoundReader:
    """One audio stream of a file, read by absolute sample number (sample k plays k / rate seconds
    after the container's time zero), forward; zeros where the stream has no sound. Reads in
    order decode the stream once; a read behind the last one, or far ahead, seeks."""

    def __init__(self, path: str | os.PathLike, stream_number: int = 0):
        self.path = _check_input_path(path)
        self._container = _open_input(self.path)
        audio = self._container.streams.audio
        if not 0 <= stream_number < len(audio):
            self._container.close()
            raise MediaError(f"{self.path}: no audio stream {stream_number} (has {len(audio)})")
        self._stream = audio[stream_number]
        context = self._stream.codec_context
        self.rate = int(context.sample_rate or 0)
        self.channels = int(context.channels or 0)
        if self.rate <= 0 or self.channels <= 0:
            self._container.close()
            raise MediaError(f"{self.path}: audio stream {stream_number} has no sample rate or channels")
        self._frames: Iterator | None = None
        self._buffer = np.zeros((0, self.channels), dtype=np.int32)
        self._buffer_start: int | None = None  # absolute sample number of _buffer[0]
        self._ended = False

    def __enter__(self) -> SoundReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def _restart(self, at: int) -> None:
        try:
            if at > 0:
                seconds = max(0.0, at / self.rate - 1.0)  # a second early: some demuxers land late
                self._container.seek(int(seconds / self._stream.time_base), stream=self._stream, backward=True)
            else:
                self._container.seek(0, stream=self._stream, backward=True)
        except av.error.FFmpegError as exc:
            raise MediaError(f"{self.path}: cannot seek in the sound ({_one_line(exc)})") from None
        self._frames = self._container.decode(self._stream)
        self._buffer = np.zeros((0, self.channels), dtype=np.int32)
        self._buffer_start = None
        self._ended = False

    def _decode_more(self) -> None:
        try:
            frame = next(self._frames, None)
        except av.error.FFmpegError as exc:
            raise MediaError(f"{self.path}: decoding the sound failed ({_one_line(exc)})") from None
        if frame is None:
            self._ended = True
            return
        samples = _samples_int32(frame)
        if samples.shape[1] != self.channels:
            raise MediaError(f"{self.path}: the sound changes its number of channels")
        if self._buffer_start is None:  # first frame after a (re)start: place it by its timestamp
            self._buffer_start = round(float(frame.pts * frame.time_base) * self.rate) if frame.pts is not None else 0
        self._buffer = np.concatenate([self._buffer, samples]) if len(self._buffer) else samples

    def read(self, start: int, count: int) -> np.ndarray:
        """Samples ``start .. start+count-1`` as (count, channels) int32."""
        out = np.zeros((count, self.channels), dtype=np.int32)
        buffer_end = None if self._buffer_start is None else self._buffer_start + len(self._buffer)
        if (self._frames is None or (self._buffer_start is not None and start < self._buffer_start)
                or (buffer_end is not None and start > buffer_end + SOUND_SEEK_AHEAD_S * self.rate)):
            self._restart(start)
        end = start + count
        while not self._ended and (self._buffer_start is None or self._buffer_start + len(self._buffer) < end):
            self._decode_more()
            if self._buffer_start is not None and self._buffer_start + len(self._buffer) < start:
                self._buffer_start += len(self._buffer)  # all before the request: drop it
                self._buffer = self._buffer[:0]
        if self._buffer_start is not None:
            low, high = max(start, self._buffer_start), min(end, self._buffer_start + len(self._buffer))
            if high > low:
                out[low - start:high - start] = self._buffer[low - self._buffer_start:high - self._buffer_start]
            keep = max(0, end - self._buffer_start)
            self._buffer_start += min(keep, len(self._buffer))
            self._buffer = self._buffer[keep:]
        return out


# ---------------------------------------------------------------------------------------------
# Encoding


def _rate_fraction(fps: float) -> Fraction:
    """29.97 -> 30000/1001 (NTSC rates exactly), 24 -> 24/1, others to a millisecond-ish grid."""
    ntsc = fps * 1.001
    if abs(ntsc - round(ntsc)) < 1e-3 and abs(fps - round(fps)) > 1e-3:
        return Fraction(round(ntsc) * 1000, 1001)
    return Fraction(fps).limit_denominator(1000)


def _encoder_pix_fmt(codec: str, channels: int, bit_depth: int) -> str:
    if codec == "ffv1":
        return {(1, 8): "gray", (1, 16): "gray16le", (3, 8): "bgr0", (3, 16): "gbrp16le"}[(channels, bit_depth)]
    if codec == "prores":
        return "yuv422p10le"  # ProRes 422 HQ: 10-bit whatever the input depth; grey as neutral chroma
    return "yuv420p"  # H.264 for delivery and browsers


def _planar_gbr_frame(quantised: torch.Tensor) -> av.VideoFrame:
    """(3, H, W) 16-bit code values in FFV1's own planar G, B, R: no packed copy (and its integer
    temporaries) for the encoder to reorder, 0.15 GiB less at the peak of a 4K frame."""
    _, height, width = quantised.shape
    frame = av.VideoFrame(width, height, "gbrp16le")
    for plane, channel in zip(frame.planes, (1, 2, 0), strict=True):
        rows = np.frombuffer(plane, dtype=np.uint16).reshape(height, plane.line_size // 2)
        rows[:, :width] = quantised[channel].numpy()  # whole numbers already: the cast is exact
    return frame


def encoder_reserve_bytes(codec: str, *, channels: int, height: int, width: int, bit_depth: int) -> int:
    """Memory the encoder of ``codec`` keeps for itself beside the frames it is given. FFV1
    (version 3, as written here) allocates a packet buffer sized for the worst case,
    ``planes * W * H * (2 * depth + 5)`` bytes (libavcodec's ``ff_ffv1_encode_buffer_size``;
    1.41 GB at 4K 16-bit RGB, whatever the slices, threads or coder), zero-filled (every page
    resident) and kept for the next frame (docs/BENCHMARKS.md, issue #18). Nothing is counted
    for the other codecs (their buffers were not measured)."""
    if codec != "ffv1":
        return 0
    return channels * height * width * (2 * bit_depth + 5)


class VideoWriter:
    """Write (T, C, H, W) float frames in [0, 1] to a video file.

    ``codec``: ``ffv1`` (lossless; grey stays grey; 8 or 16 bit), ``prores`` (422 HQ, 10 bit) or
    ``h264`` (libx264, yuv420p, needs even width and height); the default follows the extension
    (.mkv -> ffv1, .mov -> prores, .mp4 -> h264). ``options`` are extra encoder options (e.g.
    ``{"crf": "23"}`` for H.264). The file appears under its name only on a clean close; until
    then it is written to a hidden temporary name in the same folder, removed on error.
    """

    def __init__(self, path: str | os.PathLike, *, fps: float, codec: str | None = None, bit_depth: int = 8,
                 options: dict[str, str] | None = None, sound: tuple[tuple[int, str, int], ...] = ()):
        self.path = Path(path)
        if self.path.is_dir():
            raise MediaError(f"{self.path}: is a folder, not a file name")
        extension = self.path.suffix.lower()
        if extension not in CODEC_BY_EXTENSION:
            raise MediaError(f"{self.path}: unsupported output extension {extension or '(none)'!r}; use .mkv, .mov or .mp4")
        codec = codec or CODEC_BY_EXTENSION[extension]
        if codec not in ENCODER_NAMES:
            raise MediaError(f"unknown codec {codec!r}; use ffv1, prores or h264")
        if codec not in CODECS_BY_EXTENSION[extension]:
            raise MediaError(f"{self.path}: codec {codec} cannot go in a {extension} file")
        if bit_depth not in (8, 16):
            raise MediaError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            raise MediaError(f"fps must be a number, got {fps!r}") from None
        if not (math.isfinite(fps) and 0 < fps <= 1000):
            raise MediaError(f"fps must be between 0 and 1000, got {fps!r}")
        folder = self.path.parent
        if not folder.is_dir():
            raise MediaError(f"{self.path}: output folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise MediaError(f"{self.path}: output folder {folder} is not writable")
        for rate, layout, bits in sound:
            if not (isinstance(rate, int) and 0 < rate <= 384_000) or bits not in (16, 24):
                raise MediaError(f"unsupported sound stream: {rate} Hz, {bits} bit")
            try:
                av.AudioLayout(layout)
            except (ValueError, TypeError):
                raise MediaError(f"unknown sound channel layout {layout!r}") from None
        self.sound = tuple(sound)
        self._sound_streams: list = []
        self.samples_written = [0] * len(self.sound)
        self.codec = codec
        self.fps = fps
        self.bit_depth = bit_depth
        self.options = dict(options or {})
        self.frames_written = 0
        self._muxer = MUXER_BY_EXTENSION[extension]
        self._temporary = folder / f".{self.path.name}.{uuid.uuid4().hex[:12]}.partial"
        self._container = None
        self._stream = None
        self._shape: tuple[int, int, int] | None = None  # (C, H, W)
        self._closed = False

    # context manager --------------------------------------------------------------------
    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # writing ----------------------------------------------------------------------------
    def _open(self, channels: int, height: int, width: int) -> None:
        if self.codec in ("h264", "prores") and (width % 2 or height % 2):
            raise MediaError(
                f"{self.path}: {self.codec} needs even width and height, got {width}x{height} (use .mkv/ffv1 for odd sizes)"
            )
        try:
            self._container = av.open(str(self._temporary), mode="w", format=self._muxer)
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"{self.path}: cannot write ({_one_line(exc)})") from None
        rate = _rate_fraction(self.fps)
        stream = self._container.add_stream(ENCODER_NAMES[self.codec], rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = _encoder_pix_fmt(self.codec, channels, self.bit_depth)
        stream.codec_context.time_base = 1 / rate
        if self.codec == "ffv1":
            # Intra-only (every frame a keyframe) so any frame can be read without its neighbours.
            options = {"level": "3", "g": "1", "slicecrc": "1"}
        elif self.codec == "prores":
            options = {"profile": "3"}
        else:
            # x264_options: the same bytes for the same frames from run to run.
            options = {"crf": "16", "preset": "medium", **x264_options()}
        stream.options = {**options, **self.options}
        self._stream = stream
        self._shape = (channels, height, width)
        for rate, layout, bits in self.sound:  # PCM: lossless, and Matroska and QuickTime both carry it
            sound = self._container.add_stream(f"pcm_s{bits}le", rate=rate)
            sound.layout = layout
            sound.format = "s16" if bits == 16 else "s32"
            sound.codec_context.time_base = Fraction(1, rate)
            self._sound_streams.append(sound)

    def write_sound(self, number: int, samples: np.ndarray) -> None:
        """Append samples (n, channels) int32 at full scale (as ``SoundReader.read`` gives) to
        sound stream ``number``; call after the first ``write`` of pictures."""
        if self._closed or self._container is None:
            raise MediaError(f"{self.path}: write pictures before sound, and not after closing")
        rate, layout, bits = self.sound[number]
        if samples.ndim != 2 or samples.shape[1] != av.AudioLayout(layout).nb_channels:
            self.abort()
            raise MediaError(f"sound stream {number} takes {layout} samples, got shape {samples.shape}")
        if len(samples) == 0:
            return
        packed = (samples >> 16).astype(np.int16) if bits == 16 else samples.astype(np.int32)
        try:
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(packed.reshape(1, -1)),
                                               format="s16" if bits == 16 else "s32", layout=layout)
            frame.sample_rate = rate
            frame.pts = self.samples_written[number]
            frame.time_base = Fraction(1, rate)
            stream = self._sound_streams[number]
            for packet in stream.encode(frame):
                self._container.mux(packet)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.abort()
            raise MediaError(f"{self.path}: encoding the sound failed ({_one_line(exc)})") from None
        self.samples_written[number] += len(samples)

    def write(self, frames: torch.Tensor) -> None:
        """Append frames (T, C, H, W) (or one frame (C, H, W)), C in {1, 3}, values in [0, 1]."""
        if self._closed:
            raise MediaError(f"{self.path}: writer is closed")
        if not isinstance(frames, torch.Tensor):
            raise MediaError(f"frames must be a torch.Tensor, got {type(frames).__name__}")
        if frames.dim() == 3:
            frames = frames.unsqueeze(0)
        if frames.dim() != 4 or frames.shape[1] not in (1, 3):
            raise MediaError(f"frames must be (T, C, H, W) with C 1 or 3, got shape {tuple(frames.shape)}")
        _, channels, height, width = frames.shape
        if height < 1 or width < 1 or height > MAX_SIDE or width > MAX_SIDE:
            raise MediaError(f"frame size {width}x{height} is out of range")
        if self._shape is None:
            try:
                self._open(channels, height, width)
            except BaseException:
                self.abort()
                raise
        elif (channels, height, width) != self._shape:
            self.abort()
            raise MediaError(f"frames are {channels}x{height}x{width}, earlier ones were {'x'.join(map(str, self._shape))}")
        high_bit = self.bit_depth == 16
        full_scale = 65535.0 if high_bit else 255.0
        source_format = ("gray16le" if high_bit else "gray") if channels == 1 else "rgb48le" if high_bit else "rgb24"
        try:
            for image in frames.detach():
                # Frame by frame: a chunk's float and integer temporaries at once took 2 GB for four 4K frames.
                # clamp copies (the caller's frames stay); the rest in place: one float frame, not three
                quantised = image.float().clamp(0, 1).mul_(full_scale).round_().to("cpu")
                if self._stream.pix_fmt == "gbrp16le":
                    frame = _planar_gbr_frame(quantised)
                else:
                    array = quantised.to(torch.int32).permute(1, 2, 0).numpy().astype(np.uint16 if high_bit else np.uint8)
                    picture = array[:, :, 0] if channels == 1 else array
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format=source_format)
                if self.codec == "h264":
                    # Convert here and pass x264 a fresh frame (the encoder's own conversion
                    # path also gave run-to-run differences).
                    frame = av.VideoFrame.from_ndarray(frame.reformat(format="yuv420p").to_ndarray(), format="yuv420p")
                frame.pts = self.frames_written
                frame.time_base = self._stream.codec_context.time_base
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
                self.frames_written += 1
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.abort()
            raise MediaError(f"{self.path}: encoding failed ({_one_line(exc)})") from None

    def close(self) -> None:
        """Flush, close and move the file to its final name. Writing no frame at all is an error."""
        if self._closed:
            return
        if self._container is None:
            self.abort()
            raise MediaError(f"{self.path}: no frames were written")
        try:
            for stream in [self._stream, *self._sound_streams]:
                for packet in stream.encode():
                    self._container.mux(packet)
            self._container.close()
            self._container = None
            os.replace(self._temporary, self.path)
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise MediaError(f"{self.path}: could not finish writing ({_one_line(exc)})") from None
        self._closed = True

    def abort(self) -> None:
        """Stop and remove the partial file; the final name is never touched."""
        self._closed = True
        if self._container is not None:
            with contextlib.suppress(Exception):  # closing a broken muxer may fail; the file goes anyway
                self._container.close()
            self._container = None
        with contextlib.suppress(OSError):
            self._temporary.unlink(missing_ok=True)


# Distribution sound: AAC (what every player takes in MP4 and Matroska), at this bit rate per channel.
DISTRIBUTION_SOUND_BITRATE_PER_CHANNEL = 128_000


def sound_mux(picture: str | os.PathLike, sound: str | os.PathLike, output: str | os.PathLike) -> ProbeInfo:
    """``output`` (.mp4 or .mkv): the video stream of ``picture`` as it is (packets copied, no
    re-encode) with every audio stream of ``sound`` (read by ``SoundReader`` from time zero, as long
    as the picture runs) encoded as AAC. Written under a temporary name and renamed; nothing is left
    on failure."""
    out_path = Path(output)
    muxer = {".mp4": "mp4", ".mkv": "matroska"}.get(out_path.suffix.lower())
    if muxer is None:
        raise MediaError(f"{out_path}: sound is muxed into .mp4 or .mkv, not {out_path.suffix or '(none)'!r}")
    info = probe(picture)
    streams = probe(sound).audio
    if not streams:
        raise MediaError(f"{sound}: has no sound")
    temporary = out_path.parent / f".{out_path.name}.{uuid.uuid4().hex[:12]}.partial{out_path.suffix}"
    readers = [SoundReader(sound, number) for number in range(len(streams))]
    try:
        with _open_input(Path(info.path)) as source, av.open(str(temporary), mode="w", format=muxer,
                                                             options={"movflags": "+faststart"} if muxer == "mp4"
                                                             else {}) as out:
            video_in = source.streams.video[0]
            video_out = out.add_stream_from_template(video_in)
            encoders = []
            for rate, layout, _ in streams:
                encoder = out.add_stream("aac", rate=rate)
                encoder.layout = layout
                encoder.format = "fltp"
                encoder.bit_rate = DISTRIBUTION_SOUND_BITRATE_PER_CHANNEL * av.AudioLayout(layout).nb_channels
                encoders.append(encoder)
            for packet in source.demux(video_in):
                if packet.dts is None and packet.size == 0:
                    continue
                packet.stream = video_out
                out.mux(packet)
            rate = _rate_fraction(info.fps)
            for reader, encoder, (sample_rate, layout, _) in zip(readers, encoders, streams, strict=True):
                total = round(info.frame_count * sample_rate / rate)
                step = encoder.codec_context.frame_size or 1024
                for first in range(0, total, step):
                    samples = reader.read(first, min(step, total - first))
                    planar = np.ascontiguousarray((samples.astype(np.float32) / 2.0**31).T)
                    frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
                    frame.sample_rate = sample_rate
                    frame.pts = first
                    frame.time_base = Fraction(1, sample_rate)
                    out.mux(encoder.encode(frame))
                out.mux(encoder.encode(None))
        os.replace(temporary, out_path)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        temporary.unlink(missing_ok=True)
        raise MediaError(f"{out_path}: could not add the sound ({_one_line(exc)})") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        for reader in readers:
            reader.close()
    return probe(out_path)


def open_writer(path: str | os.PathLike, *, fps: float, codec: str | None = None, bit_depth: int = 8,
                source: str | os.PathLike | None = None, carry_headers: bool = True):
    """A writer for ``path``: a ``SequenceWriter`` when it is a printf pattern (frame numbers,
    format details and DPX headers from ``source`` when that is a sequence), else a
    ``VideoWriter``. Both write nothing until the first frame and leave nothing on failure."""
    if image_sequence.is_pattern(path):
        if codec is not None:
            raise MediaError(f"{path}: a codec applies to video files; an image sequence's format is its extension")
        like = image_sequence.find(source) if source is not None and image_sequence.is_sequence_name(source) else None
        return image_sequence.SequenceWriter(path, fps=fps, bit_depth=bit_depth, source=like, carry_headers=carry_headers)
    if "%" in Path(path).name and Path(path).suffix.lower() not in CODEC_BY_EXTENSION:
        raise MediaError(f"{path}: unsupported frame format {Path(path).suffix or '(none)'!r}; "
                         f"image sequences are written as {', '.join(sorted(image_sequence.FORMAT_BY_EXTENSION))}")
    return VideoWriter(path, fps=fps, codec=codec, bit_depth=bit_depth)


def write_video(path: str | os.PathLike, frames: torch.Tensor, *, fps: float, codec: str | None = None,
                bit_depth: int = 8, options: dict[str, str] | None = None) -> None:
    """Write a whole clip at once (see ``VideoWriter``)."""
    with VideoWriter(path, fps=fps, codec=codec, bit_depth=bit_depth, options=options) as writer:
        writer.write(frames)


def cli_probe(args) -> int:
    """`python -m restoration probe IN`: print the probe as JSON (IN: a video file, or an image
    sequence's pattern or folder)."""
    print(json.dumps(probe(args.input).to_dict(), indent=2))
    return 0
