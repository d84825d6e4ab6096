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
    "DEFAULT_PRESET",
    "PRESET_NAMES",
    "Progress",
    "ProgressBar",
    "RestoreResult",
    "analyse",
    "clips_join",
    "default_device",
    "frames_uint8",
    "is_transient_error",
    "preset_spec",
    "probe",
    "restore_frames",
    "spec_validate",
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
