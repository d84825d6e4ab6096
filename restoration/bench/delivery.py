"""Delivery benchmark: bytes an adaptive encode (each shot at the highest CRF that keeps the target)
saves against the best single CRF, i.e. the highest CRF whose worst shot still reaches the target.

Reels: all of ``../shared/data/footage`` end to end (skipped when absent): the A-Bomb file's four
shots and the four one-shot silent clips, 565 frames; and synthetic shots of very different difficulty (a smooth gradient, a clean
photograph panning, the same photograph heavily damaged, a moving fine texture). For each codec:
the adaptive encode (``encode_adaptive``, shots given), then the best single CRF: the same
``search_crf`` over plain encodes of the whole reel scored by their worst shot, on the same CRF
grid, started at the lowest CRF the adaptive encode chose, and exact (to one grid step: it does not
stop early within the tolerance as the shots' search may, which would only favour the adaptive
encode). Every row is run twice: both sides tuned for the target's metric, and neither. Encode fps
counts the adaptive encode's wall time, search and measuring included.
"""

from __future__ import annotations

import bisect
import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import torch

from restoration.analysis.shot_reels import A_BOMB, FOOTAGE, SILENT, load_shots
from restoration.encode.adaptive import encode_adaptive, encode_single_crf, shot_qualities
from restoration.encode.codecs import DELIVERY_CODECS, TUNE_FOR_TARGET
from restoration.encode.search import search_crf
from restoration.encode.targets import parse_target
from restoration.io import write_video

# (codec, target) pairs: SSIM for every codec, and PSNR for H.264.
RUNS = (("h264", "ssim:0.97"), ("hevc", "ssim:0.97"), ("av1", "ssim:0.97"), ("h264", "psnr:40"))
# Encodes of the whole reel the baseline's exact search may take.
BASELINE_MAX_ENCODES = 12
FPS = 24.0
# The silent clips' size, which the A-Bomb file's shots are resized to.
FOOTAGE_SIZE = (368, 480)


def _footage_reel(folder: Path, frames: int | None) -> tuple[Path, list[tuple[int, int]]] | None:
    """All of the shared footage as one reel: the A-Bomb file's four shots (resized to the silent
    clips' 480x368) and the four silent clips, each whole (``frames`` None) or its first ``frames``."""
    if not all((FOOTAGE / name).is_file() for name in (A_BOMB, *SILENT)):
        return None
    shots = [clip[:frames].float() / 255 for _, clip, _ in load_shots(FOOTAGE_SIZE)]
    path = folder / "footage.mkv"
    write_video(path, torch.cat(shots), fps=FPS)
    ends = list(itertools.accumulate(len(shot) for shot in shots))
    return path, [(end - len(shot), end - 1) for shot, end in zip(shots, ends, strict=True)]


def synthetic_reel(folder: Path, frames: int, size: tuple[int, int]) -> tuple[Path, list[tuple[int, int]]]:
    from restoration.degrade import clean_sources, degrade, synthetic_clip

    height, width = size
    photo = dict(clean_sources())["astronaut"]
    ys = torch.linspace(0, 1, height)[:, None]
    xs = torch.linspace(0, 1, width)[None, :]
    gradient = torch.stack([torch.stack([0.2 + 0.5 * ys * xs + 0.004 * t, 0.3 + 0.2 * xs.expand(height, width),
                                         0.6 - 0.3 * ys.expand(height, width)]) for t in range(frames)])
    pan = synthetic_clip(photo, frames=frames, size=size, seed=1, motion="pan")
    damaged = degrade(synthetic_clip(photo, frames=frames, size=size, seed=2, motion="shake"), seed=7,
                      strength="heavy").damaged.clamp(0, 1)
    generator = torch.Generator().manual_seed(5)
    coarse = torch.rand(1, 3, height // 3, width // 3, generator=generator)
    texture = torch.nn.functional.interpolate(coarse, size=size, mode="bicubic").clamp(0, 1)
    moving = torch.cat([torch.roll(texture, (2 * t, 3 * t), (2, 3)) for t in range(frames)])
    shots = [gradient, pan, damaged.expand(-1, 3, -1, -1) if damaged.shape[1] == 1 else damaged, moving]
    path = folder / "synthetic.mkv"
    write_video(path, torch.cat(shots), fps=FPS)
    return path, [(i * frames, (i + 1) * frames - 1) for i in range(len(shots))]


def compare_row(reel: str, source: Path, spans, codec: str, target: str, preset: str, folder: Path,
                tune: bool = TUNE_FOR_TARGET) -> dict[str, Any]:
    quality_target = parse_target(target)
    tune_for = quality_target.metric if tune else None
    delivery = DELIVERY_CODECS[codec]
    frames = spans[-1][1] + 1
    started = time.perf_counter()
    adaptive_path = folder / f"{reel}-{codec}-adaptive.mp4"
    adaptive = encode_adaptive(source, adaptive_path, codec=codec, target=target, shots=spans, preset=preset,
                               tune=tune)
    seconds = time.perf_counter() - started

    def single_path(crf: float) -> Path:
        return folder / f"{reel}-{codec}-single-{crf:g}.mp4"

    singles: dict[float, tuple[int, list[float]]] = {}

    def worst_shot(crf: float) -> float:
        size = encode_single_crf(source, single_path(crf), codec=codec, crf=crf, preset=preset, tune_for=tune_for)
        singles[crf] = (size, shot_qualities(source, single_path(crf), target, spans))
        return min(singles[crf][1])

    # The baseline: the highest single CRF whose worst shot reaches the target, searched on the same
    # CRF grid as the shots' but exactly (to one grid step, not stopping within the tolerance).
    baseline = search_crf(worst_shot, delivery, quality_target, start=min(shot.crf for shot in adaptive.shots),
                          exact=True, max_encodes_outside_tolerance=BASELINE_MAX_ENCODES)
    crf = delivery.crf_min if baseline.crf is None else baseline.crf
    if crf not in singles:
        worst_shot(crf)
    single_bytes, single = singles[crf]
    hardest = min(range(len(spans)), key=single.__getitem__)
    qualities = [shot.quality for shot in adaptive.shots]
    return {
        "reel": reel, "codec": codec, "target": target, "tuned": "yes" if tune_for else "no", "preset": preset,
        "shots": len(spans),
        "adaptive CRFs": " ".join(f"{shot.crf:g}" for shot in adaptive.shots),
        "adaptive bytes": adaptive.bytes,
        "single CRF": f"{crf:g}", "single bytes": single_bytes,
        "bytes saved %": 100.0 * (1.0 - adaptive.bytes / single_bytes),
        "worst shot adaptive": min(qualities), "worst shot single": min(single),
        # A capped shot (still above the target at the codec's highest CRF) is as near as it can be.
        "shots within tolerance": f"{sum(shot.capped or quality_target.within_tolerance(shot.quality) for shot in adaptive.shots)}"
                                  f"/{len(qualities)}",
        "shots capped at the top CRF": sum(shot.capped for shot in adaptive.shots),
        # What adaptation cannot save: the shot that sets the single CRF gets about that CRF in both.
        # Its bytes are taken from the adaptive encode, where each shot's packets are its own (in a
        # single AV1 encode a packet may carry a hidden frame of a later shot).
        "worst shot's bytes, % of single": 100.0 * shot_bytes(adaptive_path, spans)[hardest] / single_bytes,
        "encodes a shot": sum(len(shot.trials) for shot in adaptive.shots) / len(adaptive.shots),
        "baseline encodes": len(baseline.trials),
        "encode fps (wall)": frames / seconds,
    }


def shot_bytes(path: Path, spans) -> list[int]:
    """Bytes of each shot's packets in an encode of the reel (by presentation time: exact where each
    packet is one frame, as in H.264, HEVC, and an adaptive encode's separately encoded shots)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [(packet.pts, packet.size) for packet in container.demux(stream) if packet.size and packet.pts is not None]
        frame_time = stream.time_base * stream.average_rate
    first = min(pts for pts, _ in packets)
    starts = [start for start, _ in spans]
    sizes = [0] * len(spans)
    for pts, size in packets:
        sizes[bisect.bisect_right(starts, round((pts - first) * frame_time)) - 1] += size
    return sizes


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    frames, size, preset = (6, (96, 128), "veryfast") if quick else (24, (240, 320), "medium")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as scratch:
        folder = Path(scratch)
        reels = [("synthetic", *synthetic_reel(folder, frames, size))]
        footage = _footage_reel(folder, frames if quick else None)
        if footage is not None:
            reels.insert(0, ("footage", *footage))
        for reel, source, spans in reels:
            for codec, target in RUNS:
                for tune in (True, False):  # both sides tuned for the target's metric, and neither
                    rows.append(compare_row(reel, source, spans, codec, target, preset, folder, tune=tune))
    footage_frames = f"{frames} frames a shot" if quick else "every frame"
    title = (f"Delivery: adaptive CRF per shot against the best single CRF (synthetic: {frames} frames a shot "
             f"at {size[1]}x{size[0]}; footage: 8 shots, {footage_frames}, at 480x368 grey)")
    return {title: rows}
