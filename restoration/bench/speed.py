"""Speed at 480p: the learned restoration net, the film preset and the FFmpeg nlmeans chain (the
speed target's yardstick, issue #19) on 24 grey frames at 640x480 (4:3, the shape of most old
films) and 854x480 (16:9), with the process's torch threads (2 on the development machine).
The methods take turns within each round (so a change of load falls on all of them alike);
median of 3 rounds after a warm-up: frames per second of wall time (what a user waits) and per
CPU-second of the process (steadier on a shared machine), and each method's CPU speed as a
share of the nlmeans chain's on the same clip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from restoration.bench import median
from restoration.bench.restore import FPS, Timer

WIDTHS = (640, 854)
RUNS = 3
SPECS = (("learned_restore", {"ops": [{"op": "learned_restore"}]}), ("film preset", "film"))
NLMEANS = "ffmpeg nlmeans chain"


def _clip(width: int, frames: int, height: int) -> torch.Tensor:
    from restoration.degrade import clean_sources, degrade, synthetic_clip

    image = dict(clean_sources())["camera"]
    clip = synthetic_clip(image, frames=frames, size=(height, width), seed=1, motion="pan")
    return degrade(clip, seed=5, strength="medium").damaged


def _methods() -> list[tuple[str, Callable[[torch.Tensor], object]]]:
    from restoration.classical import run_filter_chain
    from restoration.pipeline import run_pipeline

    methods: list[tuple[str, Callable[[torch.Tensor], object]]] = [
        (name, lambda clip, spec=spec: run_pipeline(clip, spec, fps=FPS, window=32)) for name, spec in SPECS]
    methods.append((NLMEANS, lambda clip: run_filter_chain(clip, "nlmeans", fps=FPS)))
    return methods


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    frames, height = (4, 48) if quick else (24, 480)
    methods = _methods()
    rows = []
    for width in WIDTHS:
        width = width * height // 480
        clip = _clip(width, frames, height)
        for _, method in methods:
            method(clip[:6])  # warm-up: weights, allocator
        walls: dict[str, list[float]] = {name: [] for name, _ in methods}
        cpus: dict[str, list[float]] = {name: [] for name, _ in methods}
        for _ in range(1 if quick else RUNS):
            for name, method in methods:
                with Timer() as timer:
                    method(clip)
                walls[name].append(frames / timer.wall)
                cpus[name].append(frames / timer.cpu if timer.cpu > 0 else float("inf"))
        for name, _ in methods:
            rows.append({
                "method": name, "size": f"{width}x{height} grey", "threads": torch.get_num_threads(),
                "fps (wall, median)": median(walls[name]),
                "fps (CPU, median)": median(cpus[name]),
                # the speed target (issue #19): at least 0.5 of the nlmeans chain's, goal 1
                "CPU speed / nlmeans chain": median(cpus[name]) / median(cpus[NLMEANS]),
            })
    return {"Engine: speed at 480p (24 damaged grey frames, medium strength)": rows}
