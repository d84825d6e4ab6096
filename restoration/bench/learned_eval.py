"""Held-out evaluation of the learned restoration against the classical methods.

`python -m restoration.bench.learned_eval --methods damaged,ffmpeg,clean,learned[,learned+deflicker][,film][,sr] --out FILE.json`

Clips: each photograph of ``data.HELD_OUT`` (never used in training), ``synthetic_clip`` at
360x480 under camera motion, damaged by ``degrade`` at light / medium / heavy with fixed seeds,
the engine benchmark's protocol (``restoration.bench.restore``): default damage (gate weave and
colour fading included), PSNR (all channels) and SSIM (luma) of each method's output against the
clean clip. Speed is frames per CPU-second of this process (all its threads), which stays
meaningful on a shared machine, plus wall-clock fps.

Results of each method are merged into the JSON file, so methods can be run separately.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from restoration.compare import psnr, ssim

SIZE = (360, 480)
FRAMES = 10
STRENGTHS = ("light", "medium", "heavy")
MOTIONS = ("pan", "zoom", "shake", "mixed")


def make_cases(frames: int = FRAMES, size: tuple[int, int] = SIZE, protocol: str = "bench"):
    """``bench``: default damage. ``repairable``: no gate weave and no colour fading (the clean
    reference then sits where the damaged frames are, and no grade is expected of a repair)."""
    from restoration.degrade import degrade, sample_params, synthetic_clip
    from restoration.models.data import split_sources

    _, held_out = split_sources()
    cases = []
    for index, (name, image) in enumerate(held_out):
        clean = synthetic_clip(image, frames=frames, size=size, seed=70_000 + index, motion=MOTIONS[index % 4])
        for level, strength in enumerate(STRENGTHS):
            seed = 71_000 + 10 * index + level
            params = sample_params(seed, strength)
            if protocol == "repairable":
                params.update(weave_px=0.0, fade_amount=0.0, fade_desaturation=0.0)
            damage = degrade(clean, seed=seed, params=params)
            cases.append((f"{name}-{strength}", strength, damage.clean, damage.damaged))
    return cases


def methods(names: list[str], weights: str = ""):
    found = {}
    if "damaged" in names:
        found["damaged input"] = lambda clip: clip
    if "ffmpeg" in names:
        from restoration.classical import CHAINS, run_filter_chain

        for chain in CHAINS:
            found[f"ffmpeg {chain}"] = lambda clip, chain=chain: run_filter_chain(clip, chain, fps=24.0)
    if "clean" in names:
        from restoration.pipeline import run_pipeline

        found["preset clean"] = lambda clip: run_pipeline(clip, "clean", fps=24.0, window=32).frames
    if "learned" in names:
        from restoration.models.learned_ops import learned_restore

        found["learned_restore"] = lambda clip: learned_restore(clip, weights=weights)
    if "learned+deflicker" in names:
        from restoration.models.learned_ops import learned_restore
        from restoration.ops.deflicker import deflicker

        # Functions, not a spec: a spec cannot name a weights file. (Whole clip = windowed runs.)
        found["learned_restore + deflicker"] = lambda clip: deflicker(learned_restore(clip, weights=weights))
    if "film" in names:
        from restoration.pipeline import run_pipeline

        if weights:
            raise SystemExit("--methods film runs the committed weights: leave out --weights")
        found["preset film"] = lambda clip: run_pipeline(clip, "film", fps=24.0, window=32).frames
    return found


def evaluate(names: list[str], out: Path, threads: int, protocol: str = "bench", weights: str = "") -> dict:
    torch.set_num_threads(threads)
    results = json.loads(out.read_text()) if out.exists() else {}
    cases = make_cases(protocol=protocol)
    for method, run in methods(names, weights).items():
        rows, wall, cpu, frames = {}, 0.0, 0.0, 0
        for name, strength, clean, damaged in cases:
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            with torch.no_grad():
                restored = run(damaged)
            wall += time.perf_counter() - start_wall
            cpu += time.process_time() - start_cpu
            frames += damaged.shape[0]
            rows[name] = {"strength": strength, "psnr": psnr(restored, clean), "ssim": ssim(restored, clean)}
            print(f"{method:28s} {name:22s} PSNR {rows[name]['psnr']:.2f} SSIM {rows[name]['ssim']:.4f}", flush=True)
        summary = {}
        for strength in STRENGTHS + ("all",):
            chosen = [r for r in rows.values() if strength in ("all", r["strength"])]
            summary[strength] = {"psnr": sum(r["psnr"] for r in chosen) / len(chosen),
                                 "ssim": sum(r["ssim"] for r in chosen) / len(chosen)}
        results[method] = {"protocol": protocol, "cases": rows, "mean": summary, "fps_cpu": frames / cpu if cpu else None,
                           "fps_wall": frames / wall if wall else None, "threads": threads,
                           "frames": frames, "size": list(SIZE)}
        out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def evaluate_sr(out: Path, threads: int) -> dict:
    """x2 and x4 upscaling of held-out frames reduced by antialiased bicubic: bicubic,
    ops.upscale, learned."""
    import torch.nn.functional as F

    from restoration.degrade import synthetic_clip
    from restoration.models.data import split_sources
    from restoration.models.learned_ops import learned_upscale
    from restoration.ops.upscale import upscale

    torch.set_num_threads(threads)
    results = json.loads(out.read_text()) if out.exists() else {}
    _, held_out = split_sources()
    highs = [synthetic_clip(image, frames=4, size=SIZE, seed=72_000 + i, motion="pan") for i, (_, image) in enumerate(held_out)]
    for factor in (2, 4):
        lows = [F.interpolate(h, size=(SIZE[0] // factor, SIZE[1] // factor), mode="bicubic", align_corners=False,
                              antialias=True).clamp(0, 1) for h in highs]
        suffix = "" if factor == 2 else " x4"
        runs = {
            f"sr bicubic{suffix}": lambda x, f=factor: F.interpolate(x, scale_factor=f, mode="bicubic",
                                                                     align_corners=False).clamp(0, 1),
            f"sr ops.upscale{suffix}": lambda x, f=factor: upscale(x, factor=f),
            f"sr learned_upscale{suffix}": lambda x, f=factor: learned_upscale(x, factor=f),
        }
        for method, run in runs.items():
            cpu, frames, values = 0.0, 0, []
            for (name, _), low, high in zip(held_out, lows, highs, strict=True):
                start = time.process_time()
                with torch.no_grad():
                    big = run(low)
                cpu += time.process_time() - start
                frames += low.shape[0]
                values.append({"photo": name, "psnr": psnr(big, high), "ssim": ssim(big, high)})
                print(f"{method:25s} {name:12s} PSNR {values[-1]['psnr']:.2f} SSIM {values[-1]['ssim']:.4f}", flush=True)
            results[method] = {"cases": values, "mean": {"all": {"psnr": sum(v["psnr"] for v in values) / len(values),
                                                                "ssim": sum(v["ssim"] for v in values) / len(values)}},
                               "fps_cpu": frames / cpu if cpu else None, "threads": threads,
                               "size": [SIZE[0] // factor, SIZE[1] // factor]}
            out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="damaged,ffmpeg,clean,learned")
    parser.add_argument("--out", default="eval.json")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--protocol", choices=["bench", "repairable"], default="bench")
    parser.add_argument("--weights", default="", help="restore weights file (default: the committed one)")
    args = parser.parse_args(argv)
    names = args.methods.split(",")
    if "sr" in names:
        evaluate_sr(Path(args.out), args.threads)
    names = [n for n in names if n != "sr"]
    if names:
        evaluate(names, Path(args.out), args.threads, args.protocol, args.weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
