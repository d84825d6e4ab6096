"""Scans at 2K and 4K: peak memory and time per frame of the film chain and the classical ops,
whole frames (before tiling) against tiles from a 4 GiB budget (``--max-memory 4GiB``).

Each run is a fresh subprocess restoring a synthetic 16-bit RGB FFV1 clip to an FFV1 file, so
its peak resident memory (``getrusage``'s ``ru_maxrss``: torch's allocations included, which
tracemalloc does not see) is that run's alone. Times are wall seconds per frame and CPU seconds
per frame of that process, medians over ``RUNS``; the machine's load average is printed beside
them, since other work shares the cores. A cProfile of one tiled 4K run of each chain says where
the time goes (``profile`` rows: the engine's functions by own time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

SIZES = {"2K": (1556, 2048), "4K": (3112, 4096)}
FRAMES = 4
FPS = 24.0
RUNS = 1
BUDGET = "4GiB"
# The film preset's chain on a damaged shot (restoration.analysis.recommend's order), fixed here
# so every run restores the same ops whatever the analysis finds on synthetic frames.
FILM_CHAIN = [
    {"op": "stabilise", "params": {"radius": 3}},
    {"op": "deflicker", "params": {"radius": 8}},
    {"op": "dust"},
    {"op": "learned_restore"},
    {"op": "denoise", "params": {"strength": 0.5, "radius": 1}},
]
CLASSICAL_CHAIN = [{"op": "denoise"}, {"op": "dust"}, {"op": "scratch"}, {"op": "deflicker"}]
CHAINS = {"film": FILM_CHAIN, "classical": CLASSICAL_CHAIN}
PROFILE_ROWS = 8
# The film chain on whole 4K frames needed 17.7 GB for 6 frames (issue #18): more than a shared
# development machine has. Whole-frame runs of it stop at this many pixels (2K).
WHOLE_FRAME_FILM_MAX_PIXELS = 2048 * 1556


def synthetic_scan(height: int, width: int, frames: int) -> torch.Tensor:
    """A smooth picture with fine grain, panning a few pixels a frame, on the 16-bit grid."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand(1, 3, height // 32 + 2, width // 32 + 2, generator=generator)
    base = torch.nn.functional.interpolate(coarse, size=(height + 64, width + 64), mode="bicubic",
                                           align_corners=False)
    shots = []
    for t in range(frames):
        frame = base[..., 8:8 + height, 3 * t:3 * t + width]
        grain = 0.02 * torch.randn(1, 3, height, width, generator=generator)
        shots.append(((frame + grain).clamp(0, 1) * 65535).round() / 65535)
    return torch.cat(shots)


def measure(source: str, chain: str, max_memory: str | None, out: str, profile: bool) -> dict[str, Any]:
    """One run in this process (the subprocess's side): seconds, CPU seconds, peak RSS."""
    import cProfile
    import pstats
    import resource
    import time

    from restoration.io import probe
    from restoration.pipeline import run_pipeline
    from restoration.pipeline.tiling import parse_memory_size

    budget = {"max_memory": parse_memory_size(max_memory)} if max_memory else {"tile": 0}
    frames = probe(source).frame_count
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    run_pipeline(source, {"ops": CHAINS[chain]}, output=out, codec="ffv1", **budget)
    if profiler is not None:
        profiler.disable()
    result: dict[str, Any] = {
        "s/frame (wall)": (time.perf_counter() - wall) / frames,
        "s/frame (CPU)": (time.process_time() - cpu) / frames,
        "peak RSS GiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2 ** 30,
    }
    if profiler is not None:
        stats = pstats.Stats(profiler).stats
        # The ops' own functions by cumulative time (what each op and its helpers cost), then
        # torch's kernels by own time (where that time is spent).
        engine = [(key, value) for key, value in stats.items()
                  if any(part in key[0] for part in ("restoration/ops/", "restoration/models/", "pipeline/tiling"))]
        engine.sort(key=lambda item: -item[1][3])
        kernels = sorted(((key, value) for key, value in stats.items() if key[0] == "~"), key=lambda item: -item[1][2])
        result["profile"] = [
            {"function": f"{Path(key[0]).stem}.{key[2]}", "seconds": value[3], "measure": "cumulative",
             "calls": value[1]} for key, value in engine[:PROFILE_ROWS]
        ] + [
            {"function": key[2], "seconds": value[2], "measure": "own", "calls": value[1]}
            for key, value in kernels[:PROFILE_ROWS // 2]
        ]
    return result


def _subprocess(source: Path, chain: str, max_memory: str | None, out: Path, profile: bool) -> dict[str, Any]:
    code = ("import json,sys; from restoration.bench.scans import measure; "
            "print(json.dumps(measure(*sys.argv[1:5], sys.argv[5] == '1')))")
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    done = subprocess.run(
        [sys.executable, "-c", code, str(source), chain, max_memory or "", str(out), "1" if profile else "0"],
        capture_output=True, text=True, env=env, check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    from restoration.io import write_video

    sizes = {"quick 256p": (256, 340)} if quick else SIZES
    rows, profiles = [], []
    with tempfile.TemporaryDirectory(prefix="scans-bench-") as folder:
        for size_name, (height, width) in sizes.items():
            source = Path(folder) / f"{size_name}.mkv"
            write_video(source, synthetic_scan(height, width, FRAMES), fps=FPS, codec="ffv1", bit_depth=16)
            for chain in CHAINS:
                for label, budget in (("whole frames", None), (f"tiles ({BUDGET})", BUDGET)):
                    if budget is None and chain == "film" and height * width > WHOLE_FRAME_FILM_MAX_PIXELS:
                        continue
                    runs = [_subprocess(source, chain, budget, Path(folder) / "out.mkv", profile=False)
                            for _ in range(1 if quick else RUNS)]
                    ok = [r for r in runs if "error" not in r]
                    row: dict[str, Any] = {"chain": chain, "size": f"{width}x{height} 16-bit RGB", "run": label,
                                           "frames": FRAMES, "load (1 min)": os.getloadavg()[0]}
                    if not ok:
                        row["error"] = runs[0]["error"]
                    for key in ("s/frame (wall)", "s/frame (CPU)", "peak RSS GiB"):
                        if ok:
                            row[key] = sorted(r[key] for r in ok)[len(ok) // 2]
                    rows.append(row)
                if size_name != list(sizes)[-1]:
                    continue  # profiled at the largest size only
                profiled = _subprocess(source, chain, BUDGET, Path(folder) / "out.mkv", profile=True)
                for entry in profiled.get("profile", []):
                    profiles.append({"chain": chain, "size": size_name, **entry})
    return {
        f"Engine: scans at 2K/4K ({FRAMES} synthetic 16-bit frames, OMP_NUM_THREADS=2)": rows,
        "Engine: scans, where the time goes (tiled, cProfile, own time)": profiles,
    }
