"""Image sequences: a film scan as a folder of numbered DPX, TIFF, PNG or OpenEXR frames.

A sequence is named by a printf pattern (``scan/f_%06d.dpx``, ``%d`` for unpadded numbers) or by
its folder (``scan/``: the one numbered run of frames in it), optionally followed by ``@N`` to
start at frame number N (``scan/f_%06d.dpx@86400``). The frames must be one unbroken run of
numbers, all of one size, channel count and depth; anything else is a ``MediaError`` naming the
frames at fault. Frame ``i`` of the engine is file number ``first_number + i``.

Values cross into the engine as float32: integer code values divided by ``2**bits - 1`` (a 10-bit
DPX code 1023 is 1.0, and back: nothing is lost at any depth), EXR values as they are. Nothing is
converted between log and linear: the DPX transfer is recorded, and written back.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from restoration.errors import MediaError
from restoration.sequence import dpx
from restoration.sequence.formats import (
    FORMAT_BY_EXTENSION,
    FrameLayout,
    format_of,
    read_layout,
    read_values,
    write_values,
)

__all__ = ["FORMAT_BY_EXTENSION", "Sequence", "SequenceInfo", "SequenceWriter", "find", "is_sequence_name", "is_pattern"]

# Frame rate of a sequence whose headers say none: film's.
DEFAULT_FPS = 24.0
_PRINTF = re.compile(r"%(0?)(\d*)d")
_START_SUFFIX = re.compile(r"^(.*)@(\d+)$")
_NUMBERED_FILE = re.compile(r"^(.*?)(\d+)(\.[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class SequenceInfo:
    """What ``probe`` reports of a sequence (beside size, channels and frame count)."""

    pattern: str
    first_number: int
    last_number: int
    format: str
    bits: int  # stored depth: 8, 10, 12, 16 (integers), 16 or 32 (EXR half or float)
    sample: str  # "uint" or "float"
    transfer: str | None  # DPX: "logarithmic", "printing-density", "linear", ...; None for other formats
    byte_order: str | None  # DPX: "big" or "little"
    timecode: str | None  # first frame's, from the DPX TV header
    edge_code: str | None  # first frame's film edge code, from the DPX film header


@dataclass(frozen=True)
class Sequence:
    pattern: Path  # folder/prefix%0Nd.ext
    first_number: int
    count: int
    layout: FrameLayout  # of the first frame; every frame was checked to match it
    start_given: bool = False

    @property
    def name(self) -> str:
        """How to name this sequence again (what probe reports as ``path``)."""
        return f"{self.pattern}@{self.first_number}" if self.start_given else str(self.pattern)

    def frame_path(self, index: int) -> Path:
        return self.pattern.parent / (self.pattern.name % (self.first_number + index))

    def info(self) -> SequenceInfo:
        layout = self.layout
        return SequenceInfo(
            pattern=str(self.pattern), first_number=self.first_number, last_number=self.first_number + self.count - 1,
            format=layout.format, bits=layout.bits, sample=layout.sample, transfer=layout.transfer,
            byte_order=None if layout.big_endian is None else "big" if layout.big_endian else "little",
            timecode=layout.timecode, edge_code=layout.edge_code,
        )

    def read_values(self, index: int) -> np.ndarray:
        """Frame ``index`` as (H, W, C) code values, checked against the sequence's layout."""
        path = self.frame_path(index)
        values = read_values(path, self.layout.format)
        layout = self.layout
        expected = (layout.height, layout.width, layout.channels)
        if values.shape != expected:
            raise MediaError(f"{path}: the frame is {values.shape[1]}x{values.shape[0]}x{values.shape[2]}, "
                             f"the sequence is {layout.width}x{layout.height}x{layout.channels}")
        return values

    @property
    def full_scale(self) -> float | None:
        """The code value that is 1.0 (``2**bits - 1``: 1023 for 10 bits); None for float samples (EXR)."""
        return float((1 << self.layout.bits) - 1) if self.layout.sample == "uint" else None


def _split_start(text: str) -> tuple[str, int | None]:
    match = _START_SUFFIX.match(text)
    if match and not Path(text).exists():
        return match.group(1), int(match.group(2))
    return text, None


def is_pattern(path: str | os.PathLike) -> bool:
    """True when ``path`` names a sequence by a printf pattern of image files (with or without
    ``@N``); a video file that happens to hold ``%d`` in its name is not one."""
    name = Path(_split_start(str(path))[0]).name
    return bool(_PRINTF.search(name)) and format_of(name) is not None and not Path(path).is_file()


def is_sequence_name(path: str | os.PathLike) -> bool:
    """True when ``path`` names a sequence: a printf pattern, or a folder."""
    text = _split_start(str(path))[0]
    return is_pattern(path) or Path(text).is_dir()


def _pattern_parts(pattern: Path) -> tuple[str, int, str]:
    """(prefix, width, suffix) of ``prefix%0{width}d{suffix}``; width 0 for ``%d``."""
    name = pattern.name
    matches = list(_PRINTF.finditer(name))
    if len(matches) != 1:
        raise MediaError(f"{pattern}: a sequence pattern holds one frame number (%d or %0Nd), found {len(matches)}")
    match = matches[0]
    if match.group(2) and not match.group(1):
        raise MediaError(f"{pattern}: pad frame numbers with zeros (%0{match.group(2)}d), not spaces")
    suffix = name[match.end():]
    if "%" in name[:match.start()] + suffix:
        raise MediaError(f"{pattern}: a % other than the frame number's in the name; rename the frames")
    if format_of(suffix) is None:
        raise MediaError(f"{pattern}: unsupported frame format {os.path.splitext('x' + suffix)[1] or suffix!r}; "
                         f"use {', '.join(sorted(set(FORMAT_BY_EXTENSION)))}")
    return name[:match.start()], int(match.group(2) or 0), suffix


def _listing(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(folder) if not entry.name.startswith(".") and entry.is_file()]
    except OSError as exc:
        raise MediaError(f"{folder}: cannot list the folder ({exc.strerror})") from None


def _numbers(folder: Path, prefix: str, width: int, suffix: str) -> list[int]:
    matcher = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + "$")
    found = []
    for name in _listing(folder):
        match = matcher.match(name)
        if match and f"{int(match.group(1)):0{width}d}" == match.group(1):
            found.append(int(match.group(1)))
    return sorted(found)


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def _describe(runs: list[tuple[int, int]], most: int = 6) -> str:
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in runs[:most]]
    return ", ".join(parts) + (f" and {len(runs) - most} more" if len(runs) > most else "")


def _detect_pattern(folder: Path) -> Path:
    """The pattern of the one numbered run of image frames in ``folder``."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name in _listing(folder):
        match = _NUMBERED_FILE.match(name)
        if match and format_of(match.group(3)):
            groups.setdefault((match.group(1), match.group(3)), []).append(match.group(2))
    if not groups:
        raise MediaError(f"{folder}: no numbered DPX, TIFF, PNG or EXR frames in the folder")
    patterns = []
    for (prefix, suffix), digits in sorted(groups.items()):
        width = min(len(d) for d in digits)
        padded = width > 1 or any(d.startswith("0") for d in digits)
        if any(len(d) > width and d.startswith("0") for d in digits):
            raise MediaError(f"{folder}: frames {prefix}*{suffix} are numbered with mixed zero padding")
        patterns.append(folder / f"{prefix}%0{width}d{suffix}" if padded else folder / f"{prefix}%d{suffix}")
    if len(patterns) > 1:
        described = "; ".join(
            f"{p.name} (frames {_describe(_runs(_numbers(folder, *_pattern_parts(p))))})" for p in patterns[:5])
        raise MediaError(f"{folder}: {len(patterns)} image sequences in the folder: {described}; name one by its pattern")
    return patterns[0]


_CACHE: OrderedDict[tuple, Sequence] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def find(path: str | os.PathLike) -> Sequence:
    """The sequence ``path`` names (pattern or folder, optional ``@first``), every frame's header
    checked: one unbroken run, one size and depth. ``MediaError`` otherwise."""
    text, start = _split_start(str(path))
    named = Path(text)
    if named.is_dir():
        pattern = _detect_pattern(named)
    elif is_pattern(text):
        pattern = named
        if not pattern.parent.is_dir():
            raise MediaError(f"{pattern}: no such folder {pattern.parent}")
    else:
        raise MediaError(f"{named}: no such file or folder")
    prefix, width, suffix = _pattern_parts(pattern)
    numbers = _numbers(pattern.parent, prefix, width, suffix)
    if not numbers:
        raise MediaError(f"{pattern}: no frames match the pattern (e.g. {pattern.name % (start or 0)})")
    if start is not None:
        if start not in numbers:
            raise MediaError(f"{pattern}: no frame {start} (the frames present: {_describe(_runs(numbers))})")
        numbers = [n for n in numbers if n >= start]
    runs = _runs(numbers)
    if len(runs) > 1:
        gaps = [(a[1] + 1, b[0] - 1) for a, b in zip(runs, runs[1:], strict=False)]
        raise MediaError(f"{pattern}: gaps in the numbering: frames {_describe(runs)} present, {_describe(gaps)} missing")
    first, last = runs[0]
    folder_stat = pattern.parent.stat()
    last_stat = (pattern.parent / (pattern.name % last)).stat()
    key = (str(pattern.resolve()), first, last, folder_stat.st_mtime_ns, last_stat.st_mtime_ns, last_stat.st_size)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    format_name = format_of(suffix)
    layout = read_layout(pattern.parent / (pattern.name % first), format_name)
    for number in range(first + 1, last + 1):
        frame_path = pattern.parent / (pattern.name % number)
        other = read_layout(frame_path, format_name)
        if not other.same_picture(layout):
            raise MediaError(f"{frame_path}: the frame is {other.describe()}, frame {first} is {layout.describe()}; "
                             "one sequence needs one size and depth")
    sequence = Sequence(pattern=pattern, first_number=first, count=last - first + 1, layout=layout,
                        start_given=start is not None)
    with _CACHE_LOCK:
        _CACHE[key] = sequence
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return sequence


def iter_values(sequence: Sequence, start: int, end: int) -> Iterator[np.ndarray]:
    """Frames ``start .. end-1`` (engine numbers) as code-value arrays, one file at a time."""
    for index in range(start, end):
        yield sequence.read_values(index)


# ---------------------------------------------------------------------------------------------
# Writing


def output_layout(pattern: Path, *, bit_depth: int, source: Sequence | None, fps: float | None) -> FrameLayout:
    """The layout frames are written in: the source's own when it is a sequence of the same
    format (depth, transfer, byte order), else the format's nearest to ``bit_depth`` (8 or 16)."""
    format_name = format_of(_pattern_parts(pattern)[2])
    if source is not None and source.layout.format == format_name:
        return replace(source.layout, timecode=None, edge_code=None, frame_rate=fps)
    if format_name == "exr":
        bits, sample = (32 if source is not None and source.layout.bits == 32 else 16), "float"
    elif format_name == "dpx":
        bits, sample = (16 if bit_depth > 8 else 10), "uint"
    else:
        bits, sample = (16 if bit_depth > 8 else 8), "uint"
    transfer = "user-defined" if format_name == "dpx" else None
    return FrameLayout(format_name, 0, 0, 0, bits, sample, transfer, True if format_name == "dpx" else None,
                       frame_rate=fps if format_name == "dpx" else None)


class SequenceWriter:
    """Write (T, C, H, W) float frames as numbered image files named by a printf pattern.

    Frame k is written as number ``first_number + k``: the N of a pattern ending in ``@N``, else
    the source sequence's first number, else 0. The pattern's extension gives the format, the
    source the depth (see ``output_layout``). With ``carry_headers`` and a DPX source, each output
    frame carries its source frame's image-source, film and TV headers (timecode, edge code).
    Files are written to a hidden temporary folder and moved into place on a clean ``close``;
    ``abort`` leaves nothing. Integer formats are clamped to [0, 1]; EXR keeps values as they are.
    """

    def __init__(self, pattern: str | os.PathLike, *, fps: float, bit_depth: int = 8, source: Sequence | None = None,
                 carry_headers: bool = True):
        text, start = _split_start(str(pattern))
        self.path = Path(text)
        if not is_pattern(self.path):
            raise MediaError(f"{self.path}: an output sequence is named by a pattern like f_%06d.dpx")
        prefix, width, suffix = _pattern_parts(self.path)
        folder = self.path.parent
        if folder.exists():
            if not folder.is_dir():
                raise MediaError(f"{self.path}: {folder} is not a folder")
            if not os.access(folder, os.W_OK):
                raise MediaError(f"{self.path}: output folder {folder} is not writable")
            existing = _numbers(folder, prefix, width, suffix)
            if existing:
                raise MediaError(f"{self.path}: the folder already holds frames {_describe(_runs(existing))} of this "
                                 "pattern; choose another name or remove them")
        elif not folder.parent.is_dir() or not os.access(folder.parent, os.W_OK):
            raise MediaError(f"{self.path}: output folder {folder} does not exist and cannot be created")
        self.fps = fps
        self.source = source
        self.carry_headers = carry_headers and source is not None and source.layout.format == "dpx"
        self.first_number = start if start is not None else source.first_number if source is not None else 0
        self.layout = output_layout(self.path, bit_depth=bit_depth, source=source, fps=fps)
        self.frames_written = 0
        self._creates_folder = not folder.exists()
        # A new folder is written whole under a temporary name and renamed; into an existing one the
        # frames go to a hidden temporary folder inside it and are moved in at the end.
        token = uuid.uuid4().hex[:12]
        self._temporary = (folder.parent / f".{folder.name}.{token}.partial" if self._creates_folder
                           else folder / f".{prefix or 'frames'}.{token}.partial")
        self._shape: tuple[int, int, int] | None = None
        self._closed = False

    def __enter__(self) -> SequenceWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _quantise(self, frames: torch.Tensor) -> Iterator[np.ndarray]:
        """Each frame's values as the layout stores them, one frame at a time: a window's float
        and integer temporaries at once came to 1.2 GB for four 4K 16-bit frames."""
        full_scale = float((1 << self.layout.bits) - 1)
        for frame in frames.detach():
            frame = frame.to("cpu", torch.float32)
            if self.layout.sample == "float":
                yield frame.permute(1, 2, 0).numpy()
                continue
            codes = frame.clamp(0, 1).mul_(full_scale).round_()  # clamp made a copy: the caller's frames stay
            codes = codes.to(torch.uint8 if self.layout.bits == 8 else torch.uint16)
            yield np.ascontiguousarray(codes.permute(1, 2, 0).numpy())

    def write(self, frames: torch.Tensor) -> None:
        """Append frames (T, C, H, W) (or one frame (C, H, W)), C in {1, 3}."""
        if self._closed:
            raise MediaError(f"{self.path}: writer is closed")
        if not isinstance(frames, torch.Tensor):
            raise MediaError(f"frames must be a torch.Tensor, got {type(frames).__name__}")
        if frames.dim() == 3:
            frames = frames.unsqueeze(0)
        if frames.dim() != 4 or frames.shape[1] not in (1, 3):
            raise MediaError(f"frames must be (T, C, H, W) with C 1 or 3, got shape {tuple(frames.shape)}")
        shape = tuple(frames.shape[1:])
        if self._shape is None:
            self._shape = shape
            try:
                self._temporary.mkdir()
            except OSError as exc:
                self.abort()
                raise MediaError(f"{self.path}: cannot write ({exc.strerror})") from None
        elif shape != self._shape:
            self.abort()
            raise MediaError(f"frames are {'x'.join(map(str, shape))}, earlier ones were {'x'.join(map(str, self._shape))}")
        try:
            for values in self._quantise(frames):
                index = self.frames_written
                like = None
                if self.carry_headers and index < self.source.count:
                    like = dpx.read_header(self.source.frame_path(index))
                name = self.path.name % (self.first_number + index)
                write_values(self._temporary / name, values, self.layout, like=like)
                self.frames_written += 1
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError):
                raise MediaError(f"{self.path}: cannot write ({exc.strerror})") from None
            raise

    def close(self) -> None:
        """Move the frames into place. Writing no frame at all is an error."""
        if self._closed:
            return
        if self._shape is None:
            self.abort()
            raise MediaError(f"{self.path}: no frames were written")
        try:
            if self._creates_folder:
                os.rename(self._temporary, self.path.parent)
            else:
                names = sorted(os.listdir(self._temporary))
                clashes = [name for name in names if (self.path.parent / name).exists()]
                if clashes:
                    raise MediaError(f"{self.path}: {clashes[0]} appeared while writing; nothing was moved in")
                for name in names:
                    os.replace(self._temporary / name, self.path.parent / name)
                self._temporary.rmdir()
        except OSError as exc:
            self.abort()
            raise MediaError(f"{self.path}: could not finish writing ({exc.strerror})") from None
        except MediaError:
            self.abort()
            raise
        self._closed = True

    def abort(self) -> None:
        """Remove the temporary frames; the final names are never touched."""
        self._closed = True
        with contextlib.suppress(OSError):
            shutil.rmtree(self._temporary)
