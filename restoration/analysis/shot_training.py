"""Training the learned shot detector: `python -m restoration train --task shots --steps N --reels R`.

Training reels come from the builder the benchmarks use (``restoration.analysis.shot_reels``), on
seeds the benchmarks never use (``TRAIN_SEED`` onwards; the benches use seeds 1-6 and 20):

- three reels in four are hard reels (every join kind and trap, footage and photographs under
  camera moves, a fresh draw of 12 photographs per reel; three 2-4 frame inserts, one of them a
  cutaway back to the same shot, where the benches' reels have one), damaged by ``restoration.degrade``
  heavy (45 %), medium (20 %), light (15 %) or not at all (20 %: clean material);
- one in four is a cut reel of the eight footage shots in a seeded order, half of them with a
  dissolve of 4-30 frames, three in four left as they are (their own damage only), the rest
  lightly degraded;
- ``--low-contrast-reels`` more hard reels (seeds from ``LOW_CONTRAST_SEED``) whose photographs
  are shown at ``LOW_CONTRAST`` of their contrast, damaged heavy (75 %) or medium: the cuts the net
  missed on the validation reels are into or out of such pictures, where the damage changes the
  frames as much as the cut;
- ``--texture-reels`` more reels of smooth random textures (``build_synthetic_reel``: the analysis
  tests' kind of shot, still or panned, every join kind with 2-4 frame inserts going on and coming
  back, whip pans, flashes and flicker), on seeds from ``TEXTURE_SEED`` (the tests use seeds
  below 20), 72x96 or 144x192, a quarter of them lightly degraded.

Each reel is reduced once to its per-frame cues (``ShotDetector.features()``) and labels, cached
under ``var/shot_reels/`` (the cache key holds the recipe, so a changed recipe builds anew).
Training: windows of ``WINDOW`` frames, batches of ``BATCH``, AdamW (lr 2e-3, cosine to zero,
warm-up ``WARMUP`` steps); loss = BCE on the boundary heat map (a Gaussian around each reported
frame: sigma 0.5 for cuts, length / 6 for gradual transitions; positives weighted) + CE on the
type and L1 on the log span, both at frames within reach of a boundary.
"""

from __future__ import annotations

import csv
import hashlib
import json
import platform
import random
import shlex
import sys
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from restoration.analysis.shot_reels import KINDS
from restoration.analysis.shots import FEATURE_NAMES
from restoration.models.shot_embedding import EMBEDDING_THUMB_SIZE
from restoration.models.shot_embedding import WEIGHTS as EMBEDDING_WEIGHTS
from restoration.models.shot_net import TYPES, WEIGHTS, ShotNet, ShotNetConfig, save_shot_net

TRAIN_SEED = 1000
SIZE = (144, 192)
WINDOW = 256
BATCH = 16
LEARNING_RATE = 2e-3
WARMUP = 100
POS_WEIGHT = 4.0
# share of training windows that hold a reel's first or last WINDOW frames: there the cues of the
# furthest endpoints are missing and the convolutions meet the sequence's end, as at the end of
# every clip detected (drawn uniformly, a window reaches an end once in hundreds, and nets trained
# so reported false cuts in the last 3-8 frames of the validation reels)
END_WINDOWS = 0.25
CACHE = Path(__file__).resolve().parents[2] / "var" / "shot_reels"
TEXTURE_SEED = 5000
LOW_CONTRAST_SEED = 3000
LOW_CONTRAST = (0.1, 0.35)  # share of its contrast (spread around its mean) a photograph keeps
LOW_CONTRAST_RECIPE = ("v1: hard reels (every kind + insert + insert-return), photographs at 10-35 % of their "
                       "contrast, heavy .75 medium .25, 192x144")
TEXTURE_RECIPE = "v2: textured reels (build_synthetic_reel, whip cuts recorded), 72x96 or 144x192 by a coin, light .25"
# the hard reels' joins: every kind, and two more inserts (one going on, one coming back: the benches'
# reels have one insert each, too few to learn an insert's second cut from)
HARD_KINDS = (*KINDS, "insert", "insert-return")
# the frame embedding's pairs: frames of one shot (positive) or either side of one cut (negative),
# this many frames apart; a batch holds EMBEDDING_PAIRS of each
EMBEDDING_LAGS = (1, 2, 3, 4)
EMBEDDING_PAIRS = 64
EMBEDDING_RECIPE = "v1: 48x64 luma thumbnails of the training and low-contrast reels"
RECIPE = ("v2: 3/4 hard (every kind + insert + insert-return; heavy .45 medium .2 light .15 clean .2), "
          "1/4 cut reels (dissolve 4-30 half, light .25), 192x144")


def _truth_spans(reel_truths: list[dict]) -> list[tuple[str, int, int, int]]:
    """(type, reported frame, first frame, last frame) of each true boundary."""
    return [(t["type"], t["frame"], t["start"], t["start"] + t["length"] - 1) for t in reel_truths]


def make_reel(index: int, footage_shots, pictures_pool) -> tuple[torch.Tensor, list[tuple[str, int, int, int]]]:
    """Training reel ``index``: frames (T, 1, H, W) in [0, 1] and its true boundaries."""
    from restoration.analysis.shot_reels import build_cut_reel
    from restoration.degrade import degrade

    seed = TRAIN_SEED + index
    rng = random.Random(seed)
    if index % 4 == 3:
        order = list(range(len(footage_shots)))
        rng.shuffle(order)
        length = rng.choice((4, 6, 8, 12, 16, 20, 24, 30))
        dissolve_after = rng.randrange(len(order) - 1) if rng.random() < 0.5 else None
        reel, truths, _ = build_cut_reel(footage_shots, order, dissolve_after, length)
        frames = reel.float() / 255
        spans = [("cut", f, f, f) if kind == "cut" else ("dissolve", f, f - length // 2, f - length // 2 + length - 1)
                 for f, kind in truths]
        strength = "light" if rng.random() < 0.25 else None
    else:
        reel = _hard_reel(seed, rng, footage_shots, pictures_pool)
        frames = torch.stack(reel.frames)
        spans = _truth_spans(reel.truths)
        draw = rng.random()
        strength = "heavy" if draw < 0.45 else "medium" if draw < 0.65 else "light" if draw < 0.8 else None
    if strength is not None:
        frames = degrade(frames, seed=seed + 7000, strength=strength).damaged
    return frames.clamp(0, 1), spans


def with_contrast(picture: torch.Tensor, share: float) -> torch.Tensor:
    """``picture`` with ``share`` of its contrast: its spread around its mean scaled by it."""
    mean = picture.mean()
    return mean + share * (picture - mean)


def _hard_reel(seed: int, rng: random.Random, footage_shots, pictures_pool, contrast: tuple[float, float] | None = None):
    """A hard reel (``HARD_KINDS``) of 12 photographs drawn from the pool by ``rng``, each at a share
    of its contrast drawn from ``contrast`` where given, and the footage shots long enough for it."""
    from restoration.analysis.shot_reels import build_hard_reel

    footage = [frames for _, frames, _ in footage_shots if frames.shape[0] >= 70]
    pictures = list(pictures_pool)
    rng.shuffle(pictures)
    pictures = pictures[:12]
    if contrast is not None:
        pictures = [(name, with_contrast(picture, rng.uniform(*contrast))) for name, picture in pictures]
    return build_hard_reel(seed, SIZE, footage, pictures, HARD_KINDS)


def make_low_contrast_reel(index: int, footage_shots, pictures_pool) -> tuple[torch.Tensor, list[tuple[str, int, int, int]]]:
    """Low-contrast reel ``index``: a hard reel of the training photographs, each at a drawn share
    (``LOW_CONTRAST``) of its contrast, damaged: frames (T, 1, H, W) in [0, 1] and its true boundaries."""
    from restoration.degrade import degrade

    seed = LOW_CONTRAST_SEED + index
    rng = random.Random(seed)
    reel = _hard_reel(seed, rng, footage_shots, pictures_pool, LOW_CONTRAST)
    strength = "heavy" if rng.random() < 0.75 else "medium"
    frames = degrade(torch.stack(reel.frames), seed=seed + 7000, strength=strength).damaged
    return frames.clamp(0, 1), _truth_spans(reel.truths)


def make_texture_reel(index: int) -> tuple[torch.Tensor, list[tuple[str, int, int, int]]]:
    """Texture reel ``index``: frames (T, 1, H, W) in [0, 1] and its true boundaries."""
    from restoration.analysis.shot_reels import build_synthetic_reel
    from restoration.degrade import degrade

    seed = TEXTURE_SEED + index
    rng = random.Random(seed)
    reel = build_synthetic_reel(seed, (72, 96) if rng.random() < 0.5 else (144, 192))
    frames = torch.stack(reel.frames)
    if rng.random() < 0.25:
        frames = degrade(frames, seed=seed + 7000, strength="light").damaged
    return frames.clamp(0, 1), _truth_spans(reel.truths)


def reel_cues(frames: torch.Tensor) -> np.ndarray:
    from restoration.analysis.shots import ShotDetector, single_threaded

    detector = ShotDetector()
    with single_threaded():
        for chunk in frames.split(32):
            detector.feed(chunk)
    return detector.features()


def labels(spans: list[tuple[str, int, int, int]], n: int) -> dict[str, np.ndarray]:
    """Per-frame targets: heat (T,), type (T,) (-1: not trained there), span (T, 2) log1p frames."""
    heat = np.zeros(n, np.float32)
    kind = np.full(n, -1, np.int64)
    span = np.zeros((n, 2), np.float32)
    frames = np.arange(n)
    for name, frame, start, end in spans:
        gradual = name != "cut"
        sigma = max(1.0, (end - start + 1) / 6) if gradual else 0.5
        heat = np.maximum(heat, np.exp(-0.5 * ((frames - frame) / sigma) ** 2).astype(np.float32))
        reach = max(1, (end - start + 1) // 4) if gradual else 1
        near = slice(max(0, frame - reach), min(n, frame + reach + 1))
        kind[near] = TYPES.index(name)
        span[near, 0] = np.log1p(max(frame - start, 0))
        span[near, 1] = np.log1p(max(end - frame, 0))
    return {"heat": heat, "type": kind, "span": span}


def _cached_arrays(folder: Path, indices, compute, log) -> list[dict[str, np.ndarray]]:
    """The arrays of each reel, ``compute(index)`` -> (arrays, what to log), saved once under
    ``folder`` (an .npz written under a temporary name, then renamed) and read from there after."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for index in indices:
        path = folder / f"reel_{index:03d}.npz"
        if not path.exists():
            started = time.perf_counter()
            arrays, described = compute(index)
            partial = path.with_suffix(".tmp.npz")
            np.savez(partial, **arrays)
            partial.replace(path)
            log(f"{described}, {time.perf_counter() - started:.1f} s")
        with np.load(path) as data:
            out.append({key: data[key] for key in data.files})
    return out


def _cached_reels(recipe: str, indices, make, log) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(cues, labels) of reels ``make(index)`` -> (frames, spans), cached by ``recipe``."""
    def compute(index: int) -> tuple[dict[str, np.ndarray], str]:
        frames, spans = make(index)
        cues = reel_cues(frames)
        return {"cues": cues, **labels(spans, cues.shape[0])}, f"reel {index}: {cues.shape[0]} frames, {len(spans)} boundaries"

    key = hashlib.sha256(f"{recipe}|{','.join(FEATURE_NAMES)}".encode()).hexdigest()[:12]
    return [(data["cues"], {k: data[k] for k in ("heat", "type", "span")})
            for data in _cached_arrays(CACHE / key, indices, compute, log)]


@cache
def _sources() -> tuple[list, list]:
    """The footage shots and the photograph pool the training reels are built from (loaded once,
    only when a reel is not cached)."""
    from restoration.analysis.shot_reels import load_shots, photograph_clips

    return load_shots(SIZE), photograph_clips(SIZE, 1000, random.Random(TRAIN_SEED))


def training_reels(count: int, log=print, indices=None) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(cues, labels) of training reels 0..count-1 (or ``indices``), from the cache where they are."""
    return _cached_reels(RECIPE, range(count) if indices is None else indices,
                         lambda index: make_reel(index, *_sources()), log)


def low_contrast_reels(count: int, log=print) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(cues, labels) of low-contrast reels 0..count-1, from the cache where they are."""
    return _cached_reels(LOW_CONTRAST_RECIPE, range(count), lambda index: make_low_contrast_reel(index, *_sources()), log)


def texture_reels(count: int, log=print) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(cues, labels) of texture reels 0..count-1, from the cache where they are."""
    return _cached_reels(TEXTURE_RECIPE, range(count), make_texture_reel, log)


def window_start(length: int, rng: np.random.Generator) -> int:
    """First frame of a training window in a reel of ``length`` frames: a share ``END_WINDOWS``
    of them at the reel's start or its end, the others anywhere."""
    last = max(0, length - WINDOW)
    draw = rng.random()
    if draw < END_WINDOWS:
        return 0 if draw < END_WINDOWS / 2 else last
    return int(rng.integers(0, last + 1))


def _batch(reels, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
    cues, heat, kind, span = [], [], [], []
    for _ in range(BATCH):
        x, y = reels[int(rng.integers(len(reels)))]
        start = window_start(x.shape[0], rng)
        stop = start + WINDOW
        pad = max(0, stop - x.shape[0])
        cues.append(np.pad(x[start:stop], ((0, pad), (0, 0))))
        heat.append(np.pad(y["heat"][start:stop], (0, pad)))
        kind.append(np.pad(y["type"][start:stop], (0, pad), constant_values=-1))
        span.append(np.pad(y["span"][start:stop], ((0, pad), (0, 0))))
    return (torch.from_numpy(np.stack(cues)).transpose(1, 2), torch.from_numpy(np.stack(heat)),
            torch.from_numpy(np.stack(kind)), torch.from_numpy(np.stack(span)).transpose(1, 2))


def loss_of(net: ShotNet, cues, heat, kind, span) -> torch.Tensor:
    out = net(cues)
    boundary = F.binary_cross_entropy_with_logits(out[:, 0], heat, pos_weight=torch.tensor(POS_WEIGHT))
    type_logits = out[:, 1 : 1 + len(TYPES)]
    typed = F.cross_entropy(type_logits, kind, ignore_index=-1) if (kind >= 0).any() else out.sum() * 0
    mask = (kind >= 0)[:, None].float()
    spans = ((out[:, 1 + len(TYPES) :] - span).abs() * mask).sum() / mask.sum().clamp_min(1) / 2
    return boundary + 0.5 * typed + 0.5 * spans


def train_shot_net(*, steps: int, reels: int, texture_reels_count: int = 0, low_contrast_reels_count: int = 0,
                   seed: int = 0, out: Path = WEIGHTS, log=print, command: str | None = None, data=None) -> dict:
    """Train from scratch on ``reels`` training reels for ``steps`` steps; writes ``out`` (.pt) with
    a .json (command, recipe, figures) and a .csv (loss every 100 steps) beside it. ``data``:
    (cues, labels) pairs to train on instead of the reels (tests)."""
    from restoration.errors import ModelError

    if steps < 1 or reels < 1 or texture_reels_count < 0 or low_contrast_reels_count < 0:
        raise ModelError(f"steps and reels must be positive and texture and low-contrast reels not negative, got "
                         f"{steps}, {reels}, {texture_reels_count} and {low_contrast_reels_count}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    if data is None:
        data = (training_reels(reels, log) + texture_reels(texture_reels_count, log)
                + low_contrast_reels(low_contrast_reels_count, log))
    prepared = time.perf_counter() - started
    net = ShotNet(ShotNetConfig(features=len(FEATURE_NAMES)))
    stacked = np.concatenate([x for x, _ in data])
    net.feature_mean.copy_(torch.from_numpy(stacked.mean(0)))
    net.feature_std.copy_(torch.from_numpy(stacked.std(0).clip(1e-3)))
    optimiser = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    rows, running = [], []
    started = time.perf_counter()
    for step in range(steps):
        lr = _scheduled(optimiser, step, steps)
        loss = loss_of(net, *_batch(data, rng))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimiser.step()
        _note_loss(rows, running, loss.item(), step, steps, lr, log)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    net.eval()
    save_shot_net(net, out, FEATURE_NAMES)
    return _write_run(out, rows, net, prepared, started, {
        "command": command or "python -m restoration train --task shots " + f"--steps {steps} --reels {reels} "
        f"--texture-reels {texture_reels_count} --low-contrast-reels {low_contrast_reels_count} --seed {seed}",
        "steps": steps, "reels": reels, "seed": seed, "recipe": RECIPE, "train_seeds": f"{TRAIN_SEED}-{TRAIN_SEED + reels - 1}",
        "texture_reels": texture_reels_count, "texture_recipe": TEXTURE_RECIPE,
        "texture_seeds": f"{TEXTURE_SEED}-{TEXTURE_SEED + texture_reels_count - 1}" if texture_reels_count else None,
        "low_contrast_reels": low_contrast_reels_count, "low_contrast_recipe": LOW_CONTRAST_RECIPE,
        "low_contrast_seeds": (f"{LOW_CONTRAST_SEED}-{LOW_CONTRAST_SEED + low_contrast_reels_count - 1}"
                               if low_contrast_reels_count else None),
        "window": WINDOW, "end_windows": END_WINDOWS, "batch": BATCH, "learning_rate": LEARNING_RATE,
    })


def _scheduled(optimiser: torch.optim.Optimizer, step: int, steps: int) -> float:
    """Set and return ``step``'s learning rate: a linear warm-up, then a cosine down to zero."""
    warm = min(1.0, (step + 1) / min(WARMUP, max(1, steps // 10)))
    lr = LEARNING_RATE * warm * 0.5 * (1 + np.cos(np.pi * step / steps))
    for group in optimiser.param_groups:
        group["lr"] = lr
    return lr


def _note_loss(rows: list[dict], running: list[float], loss: float, step: int, steps: int, lr: float, log) -> None:
    """Add ``loss`` to the running ones; every 100 steps (and at the last) their mean becomes a row."""
    running.append(loss)
    if (step + 1) % 100 == 0 or step + 1 == steps:
        rows.append({"step": step + 1, "loss": float(np.mean(running)), "lr": lr})
        log(f"step {step + 1}: loss {rows[-1]['loss']:.4f}")
        running.clear()


def _write_run(out: Path, rows: list[dict], net: torch.nn.Module, prepared: float, started: float,
               record: dict) -> dict:
    """Write the loss rows (.csv) and ``record`` with the run's figures (.json) beside ``out``."""
    with open(out.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["step", "loss", "lr"])
        writer.writeheader()
        writer.writerows(rows)
    record = {
        **record, "parameters": sum(p.numel() for p in net.parameters()), "final_loss": rows[-1]["loss"],
        "seconds_reels": round(prepared, 1), "seconds_training": round(time.perf_counter() - started, 1),
        "threads": torch.get_num_threads(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "torch": torch.__version__, "python": platform.python_version(),
    }
    out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def cli_train_shots(args) -> int:
    from restoration.errors import ModelError

    if args.steps is None:
        raise ModelError("--task shots takes --steps (not --minutes)")
    train_shot_net(steps=args.steps, reels=args.reels, texture_reels_count=args.texture_reels,
                   low_contrast_reels_count=args.low_contrast_reels, seed=args.seed,
                   out=Path(args.out) if args.out else WEIGHTS,
                   command="python -m restoration " + shlex.join(sys.argv[1:]))
    return 0


def shot_ids(spans: list[tuple[str, int, int, int]], n: int) -> np.ndarray:
    """Per frame: the number of boundaries before it (frames of one shot share it), -1 inside a
    gradual transition's span (neither shot's)."""
    marks = np.zeros(n + 1, np.int64)
    inside = np.zeros(n, bool)
    for name, _, start, end in spans:
        marks[start] += 1
        if name != "cut":
            inside[start : end + 1] = True
            marks[min(end + 1, n)] += 1
    ids = np.cumsum(marks[:n])
    ids[inside] = -1
    return ids


def _embedding_reels(recipe: str, indices, make, log) -> list[tuple[torch.Tensor, np.ndarray]]:
    """(48x64 luma thumbnails (T, h, w) float16, shot ids (T,)) of reels ``make(index)``, cached."""
    from restoration.analysis.shots import luma_thumbnails

    def compute(index: int) -> tuple[dict[str, np.ndarray], str]:
        frames, spans = make(index)
        thumbs = luma_thumbnails(frames, EMBEDDING_THUMB_SIZE).half().numpy()
        return {"thumbs": thumbs, "ids": shot_ids(spans, thumbs.shape[0])}, f"embedding reel {index}: {thumbs.shape[0]} frames"

    key = hashlib.sha256(f"{EMBEDDING_RECIPE}|{recipe}".encode()).hexdigest()[:12]
    return [(torch.from_numpy(data["thumbs"]), data["ids"])
            for data in _cached_arrays(CACHE / f"embedding_{key}", indices, compute, log)]


def embedding_reels(reels: int, low_contrast_reels_count: int, log=print) -> list[tuple[torch.Tensor, np.ndarray]]:
    """The frame embedding's training reels: training reels 0..reels-1 and low-contrast reels."""
    return (_embedding_reels(RECIPE, range(reels), lambda index: make_reel(index, *_sources()), log)
            + _embedding_reels(LOW_CONTRAST_RECIPE, range(low_contrast_reels_count),
                               lambda index: make_low_contrast_reel(index, *_sources()), log))


def frame_pairs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame pairs (P, 2) ``EMBEDDING_LAGS`` apart: within one shot, and either side of one boundary
    (with no gradual transition's frame in either)."""
    same, across = [], []
    for lag in EMBEDDING_LAGS:
        a = np.arange(len(ids) - lag)
        b = a + lag
        usable = (ids[a] >= 0) & (ids[b] >= 0)
        same.append(np.stack([a, b], 1)[usable & (ids[a] == ids[b])])
        across.append(np.stack([a, b], 1)[usable & (ids[b] - ids[a] == 1)])
    return np.concatenate(same), np.concatenate(across)


def train_frame_embedding(*, steps: int, reels: int, low_contrast_reels_count: int = 0, seed: int = 0,
                          out: Path = EMBEDDING_WEIGHTS, log=print, command: str | None = None, data=None) -> dict:
    """Train ``FrameEmbedding`` from scratch on pairs of the training reels' frames: BCE on
    ``scale * (cos - bias)`` (both learned), one shot's pairs against pairs across a cut, half
    and half. Writes ``out`` (.pt) with a .json and a .csv beside it. ``data``: (thumbnails, shot
    ids) reels to train on instead (tests)."""
    from restoration.errors import ModelError
    from restoration.models.shot_embedding import FrameEmbedding, save_frame_embedding

    if steps < 1 or reels < 1 or low_contrast_reels_count < 0:
        raise ModelError(f"steps and reels must be positive and low-contrast reels not negative, got "
                         f"{steps}, {reels} and {low_contrast_reels_count}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    if data is None:
        data = embedding_reels(reels, low_contrast_reels_count, log)
    thumbs, same, across, offset = [], [], [], 0
    for reel_thumbs, ids in data:
        pairs = frame_pairs(ids)
        same.append(pairs[0] + offset)
        across.append(pairs[1] + offset)
        thumbs.append(reel_thumbs)
        offset += reel_thumbs.shape[0]
    thumbs, same, across = torch.cat(thumbs), np.concatenate(same), np.concatenate(across)
    prepared = time.perf_counter() - started
    net = FrameEmbedding()
    scale, bias = torch.nn.Parameter(torch.tensor(10.0)), torch.nn.Parameter(torch.tensor(0.5))
    optimiser = torch.optim.AdamW([*net.parameters(), scale, bias], lr=LEARNING_RATE, weight_decay=1e-4)
    target = torch.cat([torch.ones(EMBEDDING_PAIRS), torch.zeros(EMBEDDING_PAIRS)])
    rows, running = [], []
    started = time.perf_counter()
    for step in range(steps):
        lr = _scheduled(optimiser, step, steps)
        pairs = np.concatenate([same[rng.integers(len(same), size=EMBEDDING_PAIRS)],
                                across[rng.integers(len(across), size=EMBEDDING_PAIRS)]])
        batch = thumbs[torch.from_numpy(pairs.reshape(-1))].float()
        if rng.random() < 0.5:  # mirrored, both frames of every pair alike
            batch = batch.flip(-1)
        embedded = net(batch).view(len(pairs), 2, -1)
        cos = (embedded[:, 0] * embedded[:, 1]).sum(-1)
        loss = F.binary_cross_entropy_with_logits(scale * (cos - bias), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        _note_loss(rows, running, loss.item(), step, steps, lr, log)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    net.eval()
    save_frame_embedding(net, out)
    return _write_run(out, rows, net, prepared, started, {
        "command": command or f"python -m restoration train --task shot-embedding --steps {steps} --reels {reels} "
        f"--low-contrast-reels {low_contrast_reels_count} --seed {seed}",
        "steps": steps, "reels": reels, "seed": seed, "recipe": EMBEDDING_RECIPE, "reel_recipe": RECIPE,
        "train_seeds": f"{TRAIN_SEED}-{TRAIN_SEED + reels - 1}", "low_contrast_reels": low_contrast_reels_count,
        "low_contrast_seeds": (f"{LOW_CONTRAST_SEED}-{LOW_CONTRAST_SEED + low_contrast_reels_count - 1}"
                               if low_contrast_reels_count else None),
        "pairs": {"same_shot": len(same), "across_a_boundary": len(across)}, "lags": list(EMBEDDING_LAGS),
        "batch_pairs": 2 * EMBEDDING_PAIRS, "learning_rate": LEARNING_RATE,
        "scale": scale.item(), "bias": bias.item(),
    })


def cli_train_shot_embedding(args) -> int:
    from restoration.errors import ModelError

    if args.steps is None:
        raise ModelError("--task shot-embedding takes --steps (not --minutes)")
    train_frame_embedding(steps=args.steps, reels=args.reels, low_contrast_reels_count=args.low_contrast_reels,
                          seed=args.seed, out=Path(args.out) if args.out else EMBEDDING_WEIGHTS,
                          command="python -m restoration " + shlex.join(sys.argv[1:]))
    return 0
