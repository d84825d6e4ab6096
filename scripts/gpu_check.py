"""The engine on a GPU: 1080p speed of the film preset and its parts, and CPU/GPU agreement.

Run on a machine with CUDA (the development machines and CI have none):
    python scripts/gpu_check.py [--frames 24] [--json OUT.json]
Prints one JSON object: per spec and frame size the median frames per second of 3 timed runs
after a warm-up (CUDA synchronised), and for a small damaged clip the largest difference and
the PSNR between the CPU's and the GPU's output of each spec.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import torch

from restoration.degrade import clean_sources, degrade, synthetic_clip
from restoration.pipeline import run_pipeline

SPECS = {
    "film preset": "film",
    "clean preset": "clean",
    "learned_restore": {"ops": [{"op": "learned_restore"}]},
    "denoise": {"ops": [{"op": "denoise"}]},
    "dust": {"ops": [{"op": "dust"}]},
    "scratch": {"ops": [{"op": "scratch"}]},
    "deflicker": {"ops": [{"op": "deflicker"}]},
    "stabilise": {"ops": [{"op": "stabilise"}]},
}
FPS = 24.0


def damaged_clip(frames: int, height: int, width: int, grey: bool) -> torch.Tensor:
    image = dict(clean_sources())["camera" if grey else "astronaut"]
    if not grey and image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    clip = synthetic_clip(image, frames=frames, size=(height, width), seed=1, motion="pan")
    return degrade(clip, seed=5, strength="medium").damaged.clamp(0, 1)


def timed_fps(clip: torch.Tensor, spec, device: str, runs: int = 3) -> float:
    run_pipeline(clip[:8], spec, fps=FPS, device=device, window=32)  # warm-up: weights, kernels, allocator
    rates = []
    for _ in range(runs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        run_pipeline(clip, spec, fps=FPS, device=device, window=32)
        torch.cuda.synchronize()
        rates.append(clip.shape[0] / (time.perf_counter() - start))
    return statistics.median(rates)


def agreement(spec) -> dict[str, float]:
    clip = damaged_clip(12, 240, 320, grey=False)
    cpu = run_pipeline(clip, spec, fps=FPS, device="cpu", window=32).frames
    gpu = run_pipeline(clip, spec, fps=FPS, device="cuda", window=32).frames
    mse = float(((cpu - gpu) ** 2).mean())
    return {"max_abs_diff": float((cpu - gpu).abs().max()),
            "psnr_cpu_vs_gpu": math.inf if mse == 0 else 10 * math.log10(1 / mse)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device", file=sys.stderr)
        return 1
    report = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "speed": [], "agreement": {}}
    for grey in (True, False):
        clip = damaged_clip(args.frames, 1080, 1920, grey=grey)
        for name, spec in SPECS.items():
            fps = timed_fps(clip, spec, "cuda")
            row = {"spec": name, "size": f"1920x1080 {'grey' if grey else 'colour'}", "fps": round(fps, 2)}
            report["speed"].append(row)
            print(json.dumps(row), flush=True)
    for name in ("film preset", "clean preset", "learned_restore"):
        report["agreement"][name] = agreement(SPECS[name])
        print(json.dumps({name: report["agreement"][name]}), flush=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
