"""Shot detection, per-shot defect metrics and a recommended restoration pipeline per shot.

``analyse(path_or_frames)`` makes one streaming pass over the clip (bounded memory): each
chunk of frames feeds the shot detector (``shots.py``) and the per-frame statistics
(``metrics.py``); at the end the statistics are summarised per shot and mapped to a pipeline
(``recommend.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch

from restoration.analysis.metrics import FrameStatistics, shot_metrics
from restoration.analysis.recommend import colour_notes, recommend_pipeline
from restoration.analysis.shots import ShotDetector, detect_shots, single_threaded
from restoration.errors import MediaError

__all__ = ["analyse", "cli_analyse", "measure_spans", "detect_shots", "recommend_pipeline", "shot_metrics"]

CHUNK_SIZE = 32


def _check_chunk(frames: Any) -> torch.Tensor:
    if not isinstance(frames, torch.Tensor):
        raise MediaError(f"frames: expected a tensor (T, C, H, W), got {type(frames).__name__}")
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[1] not in (1, 3) or min(frames.shape[-2:]) < 8:
        raise MediaError(f"frames: expected shape (T, C, H, W) with C 1 or 3 and H, W >= 8, got {tuple(frames.shape)}")
    if not frames.is_floating_point():
        raise MediaError(f"frames: expected float values in [0, 1], got {frames.dtype}")
    return frames


def _chunks(source: Any) -> tuple[Iterator[torch.Tensor], int | None, float | None]:
    """(chunks, total frame count if known, fps if known) for a path, a tensor or an iterable."""
    if isinstance(source, (str, os.PathLike)):
        from restoration.io import iter_chunks, probe

        info = probe(source)  # MediaError for a missing or unreadable file
        if not info.frame_count:
            raise MediaError(f"{source}: no video frames")
        return (chunk for _, chunk in iter_chunks(source, CHUNK_SIZE)), info.frame_count, info.fps
    if isinstance(source, torch.Tensor):
        frames = _check_chunk(source)
        return iter(frames.split(CHUNK_SIZE)), frames.shape[0], None
    if isinstance(source, Iterable):
        def chunks() -> Iterator[torch.Tensor]:
            for item in source:
                yield _check_chunk(item[1] if isinstance(item, tuple) else item)

        return chunks(), None, None
    raise MediaError(f"expected a video path or frames (T, C, H, W), got {type(source).__name__}")


def analyse(
    path_or_frames: Any,
    *,
    fps: float | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> dict:
    """Shots of a clip with their defect metrics and recommended pipeline.

    ``path_or_frames``: a video path, a tensor (T, C, H, W) in [0, 1], or an iterable of such
    chunks (or ``(first_frame, chunk)`` pairs from ``restoration.io.iter_chunks``).
    ``progress(done, total)`` is called after each chunk (``total`` is None when unknown).

    Returns ``{"fps", "frame_count", "shots": [{"start_frame", "end_frame" (inclusive),
    "metrics": {...}, "recommended_pipeline": [{"op", "params"}], "colour_notes": [str],
    "transition_in": {"type": "cut|dissolve|wipe|fade", "start_frame", "end_frame"} or None for
    the first shot}]}``: a dissolve's or wipe's shot starts at its middle, a fade's at its black
    (or white) point.
    """
    chunks, total, probed_fps = _chunks(path_or_frames)
    detector = ShotDetector()
    statistics = FrameStatistics()
    done = 0
    with single_threaded():
        for chunk in chunks:
            if chunk.shape[0] == 0:
                continue
            detector.feed(chunk)
            statistics.feed(chunk)
            done += chunk.shape[0]
            if progress is not None:
                progress(done, total)
        if done == 0:
            raise MediaError("no video frames to analyse")
        statistics.finish()
        transitions = detector.transitions()
    starts = [0, *(t.frame for t in transitions)]
    ends = [s - 1 for s in starts[1:]] + [done - 1]
    shots = [{**_shot_entry(start, end, shot_metrics(statistics.values, start, end)), "transition_in": transition}
             for start, end, transition in zip(starts, ends, [None, *(t.to_dict() for t in transitions)], strict=True)]
    return {"fps": fps if fps is not None else probed_fps, "frame_count": done, "shots": shots}


def measure_spans(
    path: str | os.PathLike,
    spans: Sequence[tuple[int, int]],
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[dict]:
    """The metrics, recommended pipeline and colour notes of given shots (inclusive ``(start,
    end)`` frame pairs, e.g. cut by hand), in one streaming pass; no shot detection."""
    chunks, total, _ = _chunks(path)
    statistics = FrameStatistics()
    done = 0
    with single_threaded():
        for chunk in chunks:
            statistics.feed(chunk)
            done += chunk.shape[0]
            if progress is not None:
                progress(done, total)
        statistics.finish()
    for start, end in spans:
        if not 0 <= start <= end < done:
            raise MediaError(f"shot {start}-{end} is outside the clip's {done} frames")
    return [_shot_entry(start, end, shot_metrics(statistics.values, start, end)) for start, end in spans]


def _shot_entry(start: int, end: int, metrics: dict) -> dict:
    return {
        "start_frame": start,
        "end_frame": end,
        "metrics": metrics,
        "recommended_pipeline": recommend_pipeline(metrics),
        # Colour is the colourist's and the creator's call: advice, never an automatic op.
        "colour_notes": colour_notes(metrics),
    }


_TABLE_COLUMNS = (
    ("noise", "noise", "{:.2f}"),
    ("grain", "grain", "{:.2f}"),
    ("dust", "dust", "{:.1e}"),
    ("scratch", "scratch", "{:.2f}"),
    ("flicker", "flicker", "{:.3f}"),
    ("weave", "weave px", "{:.2f}"),
    ("blockiness", "block", "{:.2f}"),
    ("sharpness", "sharp", "{:.2f}"),
    ("motion", "motion", "{:.1f}"),
)


def format_table(report: dict) -> str:
    """A readable table: one line per shot with its main metrics and recommended ops."""
    header = ["shot", "frames"] + [title for _, title, _ in _TABLE_COLUMNS] + ["colour", "pipeline"]
    rows = [header]
    for number, shot in enumerate(report["shots"], 1):
        m = shot["metrics"]
        colour = "grey" if m.get("is_grey") else f"cast {m.get('colour_cast', 0):.1f} sat {m.get('saturation', 0):.1f}"
        ops = ", ".join(step["op"] for step in shot["recommended_pipeline"]) or "-"
        rows.append(
            [str(number), f"{shot['start_frame']}-{shot['end_frame']}"]
            + [fmt.format(m[key]) for key, _, fmt in _TABLE_COLUMNS]
            + [colour, ops]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows]
    return "\n".join(lines)


def cli_analyse(args) -> int:
    """``python -m restoration analyse IN [--json]``."""
    report = analyse(args.input)
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.input}: {report['frame_count']} frames, {len(report['shots'])} shots")
        print(format_table(report))
    return 0
