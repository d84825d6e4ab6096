"""Speed at 480p: the learned restoration net and the film preset on 24 grey frames at 640x480
(4:3, the shape of most old films) and 854x480 (16:9), with the process's torch threads (2 on
the development machine). Median of 3 timed runs after a warm-up: frames per second of wall
time (what a user waits) and per CPU-second of the process (steadier on a shared machine)."""

from __future__ import annotations

from typing import Any

import torch

from restoration.bench.restore import FPS, Timer

WIDTHS = (640, 854)
RUNS = 3
SPECS = (("learned_restore", {"ops": [{"op": "learned_restore"}]}), ("film preset", "film"))


def _clip(width: int, frames: int, height: int) -> torch.Tensor:
    from restoration.degrade import clean_sources, degrade, synthetic_clip

    image = dict(clean_sources())["camera"]
    clip = synthetic_clip(image, frames=frames, size=(height, width), seed=1, motion="pan")
    return degrade(clip, seed=5, strength="medium").damaged


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    from restoration.pipeline import run_pipeline

    frames, height = (4, 48) if quick else (24, 480)
    rows = []
    for width in WIDTHS:
        width = width * height // 480
        clip = _clip(width, frames, height)
        for name, spec in SPECS:
            run_pipeline(clip[:6], spec, fps=FPS, window=32)  # warm-up: weights, allocator
            walls, cpus = [], []
            for _ in range(1 if quick else RUNS):
                with Timer() as timer:
                    run_pipeline(clip, spec, fps=FPS, window=32)
                walls.append(frames / timer.wall)
                cpus.append(frames / timer.cpu if timer.cpu > 0 else float("inf"))
            rows.append({
                "method": name, "size": f"{width}x{height} grey", "threads": torch.get_num_threads(),
                "fps (wall, median)": sorted(walls)[len(walls) // 2],
                "fps (CPU, median)": sorted(cpus)[len(cpus) // 2],
            })
    return {"Engine: speed at 480p (24 damaged grey frames, medium strength)": rows}
