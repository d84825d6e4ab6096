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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from restoration.progress import ProgressBar

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from restoration.io import ProbeInfo

__all__ = [
    "CLIP_KINDS",
    "DEFAULT_PRESET",
    "DemoShot",
    "PRESET_NAMES",
    "Progress",
    "ProgressBar",
    "RestoreResult",
    "analyse",
    "clips_join",
    "default_device",
    "demo_scan_write",
    "frames_uint8",
    "is_transient_error",
    "preset_spec",
    "probe",
    "restore_frames",
    "spec_validate",
    "synthetic_clip_write",
]

Progress = Callable[[int, "int | None"], None]

# Names only: the specs live in restoration.pipeline, which imports torch.
PRESET_NAMES: tuple[str, ...] = ("film", "clean")
DEFAULT_PRESET = "film"

# Failures that waiting may cure: a full disk or too many open files; GPU memory is checked apart.
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM})


def probe(path: str | os.PathLike) -> ProbeInfo:
    """Container, codec, size, rate, frame count, bit depth and pixel format of a video file.
    Raises ``MediaError`` (one line, naming the file) when it is not a usable video."""
    from restoration.io import probe as io_probe

    return io_probe(path)


def analyse(
    path: str | os.PathLike,
    *,
    fps: float | None = None,
    spans: Sequence[tuple[int, int]] | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Shots of a clip, each ``{"start_frame", "end_frame" (inclusive), "metrics",
    "recommended_pipeline", "colour_notes"}``, in one streaming pass.

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
) -> RestoreResult:
    """Frames ``start .. start+count-1`` of ``source`` through ``spec`` into ``output`` (written
    under a temporary name and renamed; nothing is left behind on failure)."""
    from restoration.io import probe as io_probe
    from restoration.io import read_frames
    from restoration.pipeline import ANALYSIS_OPS, run_pipeline

    # A shot's frames are read into memory: fine for shots, not for whole reels.
    frames = read_frames(source, start, count)
    result = run_pipeline(frames, spec, output=output, fps=fps, device=device or default_device(), progress=progress)
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


def clips_join(
    sources: Sequence[str | os.PathLike], output: str | os.PathLike, *, fps: float, progress: Progress | None = None
) -> ProbeInfo:
    """The sources' frames end to end into one lossless file, at the deepest source's bit depth."""
    from restoration.io import VideoWriter, iter_chunks
    from restoration.io import probe as io_probe

    infos = [io_probe(source) for source in sources]
    total = sum(info.frame_count or 0 for info in infos)
    bit_depth = 16 if any((info.bit_depth or 8) > 8 for info in infos) else 8
    done = 0
    with VideoWriter(output, fps=fps, bit_depth=bit_depth) as out:
        for source in sources:
            for _, frames in iter_chunks(source, 32):
                out.write(frames)
                done += frames.shape[0]
                if progress is not None:
                    progress(done, total)
    return io_probe(output)


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
) -> list[tuple[int, int]]:
    """Write a damaged "scan" of ``shots`` end to end (``size`` is (height, width)) and return each
    shot's inclusive ``(start_frame, end_frame)``. Shot n (from 1) is seeded n for its motion and
    1000 + n for its damage, so the same shots give the same file. A photograph scikit-image
    cannot load without a download is replaced by the next unused one."""
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
        with VideoWriter(path, fps=fps) as scan:
            for number, (shot, name) in enumerate(zip(shots, names, strict=True), start=1):
                image = sources[name]
                colour = image.expand(3, -1, -1) if image.shape[0] == 1 else image[:3]
                clean = synthetic_clip(colour, frames=shot.frames, size=size, seed=number, motion=shot.motion)
                damage = degrade(clean, seed=1000 + number, strength=shot.strength)
                scan.write(damage.damaged.clamp(0, 1))
                cuts.append((first, first + shot.frames - 1))
                first += shot.frames
                if progress is not None:
                    progress(first, total)
    finally:
        torch.set_num_threads(threads)
    return cuts


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
