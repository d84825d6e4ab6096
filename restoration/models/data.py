"""Training data for the learned models, made from clean real photographs by ``restoration.degrade``.

Restoration pairs: a clean clip of a photograph under synthetic camera motion
(``degrade.synthetic_clip``), per-frame whole-pixel jitter added (gate weave, so the target keeps
the centre frame's position: see below), damaged by ``degrade.degrade`` at a random strength.
Each damaged window of ``2R + 1`` frames is aligned to its centre frame once, on the whole
frame, then cut into crops: (aligned damaged window, clean centre, defect mask). With
``fallback`` the window is aligned by the code ``learned_restore`` runs (``windows.clip_window``:
the centre frame stands in where a neighbour cannot be trusted).

Why the weave is ours and not ``degrade``'s: ``degrade`` weaves the damaged frames but not the
clean ones, so its clean centre frame sits up to a few pixels away from the damaged one, and a
net trained on that would learn to blur. We set ``weave_px`` to 0 and shake the clean frames
ourselves, so input and target move together. Colour fading is also switched off (a grade is
decided by people, not by this net) and the net sees luma: colour photographs are damaged in
colour (grain, dust and compression behave as in colour film) and both sides reduced to luma.

Validation uses photographs never used for training (``HELD_OUT``) with fixed seeds.
Everything is a function of the seed: the same seed gives the same stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from restoration.luma import luma
from restoration.models.nets import NET_LUMA, align_window
from restoration.models.windows import clip_window

__all__ = [
    "HELD_OUT",
    "CLIP_SIZE",
    "psnr_per_item",
    "STRENGTH_WEIGHTS",
    "RECIPE",
    "Batch",
    "split_sources",
    "restore_windows",
    "restore_stream",
    "validation_windows",
    "sr_stream",
    "sr_validation",
    "INTERP_GAPS",
    "INTERP_VALIDATION_GAPS",
    "INTERP_SIZE",
    "INTERP_RECIPE",
    "moving_cutout",
    "interp_inputs",
    "stack_interp_inputs",
    "interp_example",
    "interp_stream",
    "interp_validation",
]

# Photographs never used for training: validation and the held-out benchmark. They are also the
# first grey and the first two colour photographs the engine benchmark scores.
HELD_OUT = ("camera", "astronaut", "coffee")
CLIP_SIZE = (360, 360)  # the damage model's reference size: defects have the sizes of a 360-line scan
STRENGTH_WEIGHTS = {"light": 0.25, "medium": 0.45, "heavy": 0.30}
MOTIONS = ("pan", "zoom", "shake", "mixed")
JITTER_PX = (0.0, 1.5)  # per-frame gate weave amplitude range (pixels, standard deviation)
# With ``moving``: one or two squares of another training photograph (a third of the clip's side)
# cross the clip at this many px per frame (the moving-object bench's 2-9 px at 240 lines, at 360).
CUTOUT_SPEED = (3.0, 13.0)

RECIPE = (
    "synthetic_clip(photo, frames=12..40, size=360x360, motion=pan|zoom|shake|mixed) of the "
    "training photos (all of degrade.clean_sources() except HELD_OUT); per-frame gaussian "
    "whole-pixel jitter (sd 0..1.5 px, rounded) on the clean frames; degrade(window, strength=light 25%|"
    "medium 45%|heavy 30%, weave_px=0, fade_amount=0, fade_desaturation=0); luma; window aligned "
    "to its centre with ops.flow; pool of 24 windows, one replaced every 2 batches; random 96x96 "
    "crops, random horizontal flip"
)


@dataclass
class Batch:
    window: torch.Tensor  # (N, 2R+1, h, w) aligned damaged luma (then the 2R fell-back maps with fallback)
    clean: torch.Tensor  # (N, 1, h, w) clean luma of the centre frame
    mask: torch.Tensor  # (N, 1, h, w) defect mask of the centre frame (degrade's "all")


def split_sources(held_out: tuple[str, ...] = HELD_OUT) -> tuple[list[tuple[str, torch.Tensor]], list[tuple[str, torch.Tensor]]]:
    """(training sources, validation sources) from ``degrade.clean_sources()``."""
    from restoration.degrade import clean_sources

    sources = clean_sources()
    train = [s for s in sources if s[0] not in held_out]
    valid = [s for s in sources if s[0] in held_out]
    return train, valid


def _jitter(frames: torch.Tensor, sd: float, rng: np.random.Generator) -> torch.Tensor:
    """Shift each frame by its own random whole-pixel offset (borders replicated).

    Whole pixels on purpose: a sub-pixel resampling low-passes the frames, and a net trained on
    softened targets learns to soften (weights trained before this change used bicubic jitter,
    see README). Sub-pixel motion is already in ``synthetic_clip``'s camera paths.
    """
    if sd <= 0:
        return frames
    t, c, h, w = frames.shape
    shifts = np.rint(rng.normal(0.0, sd, size=(t, 2)).clip(-3 * sd, 3 * sd)).astype(int)
    pad = int(np.abs(shifts).max())
    if pad == 0:
        return frames
    padded = F.pad(frames, (pad, pad, pad, pad), mode="replicate")
    return torch.stack([padded[i, :, pad - dy:pad - dy + h, pad - dx:pad - dx + w] for i, (dx, dy) in enumerate(shifts)])


def restore_windows(image: torch.Tensor, seed: int, *, radius: int = 2, strength: str | None = None,
                    size: tuple[int, int] = CLIP_SIZE, align: bool = True, fade: bool = False,
                    fallback: bool = False, cutout: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One damaged window from one photograph, whole frames: (aligned window (1, 2R+1, H, W),
    followed with ``fallback`` by its neighbours' fell-back maps (1, 4R+1, H, W) in all,
    clean centre (1, 1, H, W), mask (1, 1, H, W)). Everything random comes from ``seed``.
    ``fade``: keep ``degrade``'s colour fading (lifted blacks, lost contrast in the luma).
    ``fallback``: align as ``learned_restore`` does (``windows.clip_window``: the centre frame
    where a neighbour cannot be trusted); otherwise with one coarse flow per neighbour
    (``nets.align_window``), the default recipe (run 5 and earlier; the committed run 12 is run 5
    fine-tuned on ``fallback`` windows).
    ``cutout``: a photograph (C, H, W) squares of which cross the clip (``moving_cutout``,
    ``CUTOUT_SPEED``) before the weave and the damage, as things moving inside the picture."""
    from restoration.degrade import degrade, sample_params, synthetic_clip

    rng = np.random.default_rng([seed, 7])
    frames = int(rng.integers(12, 41))
    motion = MOTIONS[int(rng.integers(len(MOTIONS)))]
    if strength is None:
        strength = str(rng.choice(list(STRENGTH_WEIGHTS), p=list(STRENGTH_WEIGHTS.values())))
    window = 2 * radius + 1
    clip = synthetic_clip(image, frames=max(frames, window), size=size, seed=seed, motion=motion)
    if cutout is not None:
        clip = _with_cutouts(clip, cutout, np.random.default_rng([seed, 11]))
    first = int(rng.integers(0, clip.shape[0] - window + 1))
    clean = _jitter(clip[first:first + window], float(rng.uniform(*JITTER_PX)), rng)
    params = sample_params(seed, strength)
    params.update(weave_px=0.0)
    if not fade:
        params.update(fade_amount=0.0, fade_desaturation=0.0)
    damage = degrade(clean, seed=seed, params=params, first_frame=first)
    damaged = damage.damaged
    fell_back = None
    if align and fallback:  # as learned_restore builds its windows: the net learns where neighbours fell back
        damaged, fell_back = clip_window(damaged, radius)
        damaged = damaged[0]
    damaged = luma(damaged, weights=NET_LUMA)[:, 0][None]  # (1, 2R+1, H, W)
    if align and not fallback:
        damaged = align_window(damaged, radius)
    if fell_back is not None:  # carried as extra channels, so crops and flips apply to it alike
        damaged = torch.cat([damaged, fell_back], dim=1)
    return damaged, luma(damage.clean[radius:radius + 1], weights=NET_LUMA), damage.masks["all"][radius:radius + 1]


def _with_cutouts(clip: torch.Tensor, photo: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """``clip`` (T, C, H, W) with one or two squares of ``photo`` crossing it (``CUTOUT_SPEED``)."""
    side = min(clip.shape[-2:]) // 3
    for _ in range(int(rng.integers(1, 3))):
        top = int(rng.integers(0, photo.shape[-2] - side + 1))
        left = int(rng.integers(0, photo.shape[-1] - side + 1))
        clip = moving_cutout(clip, photo[:, top:top + side, left:left + side].float(), rng, speed=CUTOUT_SPEED)
    return clip


def restore_stream(seed: int, *, radius: int = 2, batch_size: int = 16, crop: int = 96,
                   pool_windows: int = 24, refresh_every: int = 2, clip_size: tuple[int, int] = CLIP_SIZE,
                   held_out: tuple[str, ...] = HELD_OUT, fade: bool = False, fallback: bool = False,
                   moving: float = 0.0) -> Iterator[Batch]:
    """Endless seeded stream of training batches (``fade``, ``fallback``: see ``restore_windows``).
    ``moving``: the share of windows with squares of another training photograph crossing them.

    Windows are costly next to a training step, so a pool of ``pool_windows`` whole windows is
    kept and one of them is replaced by a new one every ``refresh_every`` batches; crops are
    drawn from the whole pool (each window gives ~``batch_size * refresh_every`` crops).
    """
    train, _ = split_sources(held_out)
    rng = np.random.default_rng([seed, 1])
    counter = 0

    def new_window():
        nonlocal counter
        counter += 1
        name, image = train[int(rng.integers(len(train)))]
        window_seed = int(rng.integers(2**31)) + counter
        cutout = None
        if moving > 0 and np.random.default_rng([window_seed, 13]).random() < moving:
            others = [photo for other, photo in train if other != name]
            cutout = others[int(np.random.default_rng([window_seed, 17]).integers(len(others)))]
        return restore_windows(image, window_seed, radius=radius, size=clip_size, fade=fade,
                               fallback=fallback, cutout=cutout)

    pool = [new_window() for _ in range(pool_windows)]
    batches = 0
    while True:
        batches += 1
        if batches % refresh_every == 0:
            pool[int(rng.integers(len(pool)))] = new_window()
        windows, cleans, masks = [], [], []
        for _ in range(batch_size):
            window, clean, mask = pool[int(rng.integers(len(pool)))]
            h, w = window.shape[-2:]
            y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
            sl = (slice(None), slice(None), slice(y, y + crop), slice(x, x + crop))
            parts = [window[sl], clean[sl], mask[sl]]
            if rng.random() < 0.5:  # horizontal flip keeps scratches vertical
                parts = [p.flip(-1) for p in parts]
            windows.append(parts[0])
            cleans.append(parts[1])
            masks.append(parts[2])
        yield Batch(torch.cat(windows), torch.cat(cleans), torch.cat(masks))


def validation_windows(*, radius: int = 2, size: tuple[int, int] = (192, 256),
                       held_out: tuple[str, ...] = HELD_OUT, fallback: bool = False) -> Batch:
    """Fixed validation set: each held-out photograph at each strength, fixed seeds, whole frames."""
    _, valid = split_sources(held_out)
    windows, cleans, masks = [], [], []
    for index, (_name, image) in enumerate(valid):
        for level, strength in enumerate(("light", "medium", "heavy")):
            window, clean, mask = restore_windows(image, 90_000 + 10 * index + level, radius=radius,
                                                  strength=strength, size=size, fallback=fallback)
            windows.append(window)
            cleans.append(clean)
            masks.append(mask)
    return Batch(torch.cat(windows), torch.cat(cleans), torch.cat(masks))


# ---------------------------------------------------------------------------------------------
# Super-resolution pairs: clean luma frames and their antialiased bicubic x2 reduction (the
# model ``ops.upscale`` assumes: how scans and access copies are made smaller).


def _reduce(images: torch.Tensor, factor: int) -> torch.Tensor:
    h, w = images.shape[-2:]
    return F.interpolate(images, size=(h // factor, w // factor), mode="bicubic", align_corners=False,
                         antialias=True).clamp(0, 1)


def _sr_frame(image: torch.Tensor, seed: int, size: tuple[int, int]) -> torch.Tensor:
    from restoration.degrade import synthetic_clip

    rng = np.random.default_rng([seed, 11])
    clip = synthetic_clip(image, frames=1, size=size, seed=seed, motion=MOTIONS[int(rng.integers(len(MOTIONS)))])
    return luma(clip, weights=NET_LUMA)


def sr_stream(seed: int, *, factor: int = 2, batch_size: int = 16, crop: int = 48, pool_frames: int = 32,
              clip_size: tuple[int, int] = (360, 360), held_out: tuple[str, ...] = HELD_OUT) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless seeded stream of (low-res (N,1,crop,crop), high-res (N,1,f*crop,f*crop)) luma pairs."""
    train, _ = split_sources(held_out)
    rng = np.random.default_rng([seed, 2])
    pool: list[torch.Tensor] = []
    while True:
        if len(pool) < pool_frames or rng.random() < 0.25:
            name, image = train[int(rng.integers(len(train)))]
            frame = _sr_frame(image, int(rng.integers(2**31)), clip_size)
            if len(pool) < pool_frames:
                pool.append(frame)
            else:
                pool[int(rng.integers(len(pool)))] = frame
        highs = []
        big = crop * factor
        for _ in range(batch_size):
            frame = pool[int(rng.integers(len(pool)))]
            y, x = int(rng.integers(0, frame.shape[-2] - big + 1)), int(rng.integers(0, frame.shape[-1] - big + 1))
            high = frame[..., y:y + big, x:x + big]
            highs.append(high.flip(-1) if rng.random() < 0.5 else high)
        high = torch.cat(highs)
        yield _reduce(high, factor), high


def sr_validation(*, factor: int = 2, held_out: tuple[str, ...] = HELD_OUT) -> tuple[torch.Tensor, torch.Tensor]:
    _, valid = split_sources(held_out)
    highs = torch.cat([_sr_frame(image, 80_000 + i, (192, 256)) for i, (_, image) in enumerate(valid)])
    return _reduce(highs, factor), highs


def psnr_per_item(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    mse = ((a.clamp(0, 1) - b) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return -10 * torch.log10(mse)



# ---------------------------------------------------------------------------------------------
# Interpolation triplets: two frames of a clip and the true frame between them, the classical
# interpolator's candidates at that time as the net's input. Camera motion alone would teach
# nothing about occlusion, so a cut-out of another photograph moves across each clip on its own
# path (it covers and uncovers the background, as a person walking through a shot does).

# (frames from the first input to the second, from the first to the true frame). A clip's
# frames stand for a fast source: leaving out 1 of 2 is what 24 -> 48 fps asks of the real
# source, 2 of 3 what 16 -> 24 fps asks (positions 1/3 and 2/3), 3 of 4 a larger motion still.
INTERP_GAPS = ((2, 1), (3, 1), (3, 2), (4, 1), (4, 2), (4, 3))
INTERP_VALIDATION_GAPS = ((2, 1), (3, 1), (3, 2))  # the conversions the benchmark scores
INTERP_SIZE = (192, 256)
INTERP_RECIPE = (
    "synthetic_clip(photo, frames=12..40, size=192x256, motion=pan|zoom|shake|mixed) of the "
    "training photos, a 48-110 px cut-out of another training photo moving 0-3 px/frame across "
    "it; two frames 2, 3 or 4 apart at a random place in the clip, target each frame between; "
    "grain (sd 0-0.03, half the clips) and a per-frame gain (+-4 %, half the clips) on every "
    "frame; luma; the classical interpolator's candidates (ops.interpolate.pair_candidates) as "
    "input; pool of 600 examples, one replaced every 4 batches, random 96x96 crops, flips"
)


def moving_cutout(clip: torch.Tensor, cutout: torch.Tensor, rng: np.random.Generator,
                  speed: tuple[float, float] | None = None) -> torch.Tensor:
    """``clip`` (T, C, H, W) with ``cutout`` (C', h, w) pasted on a straight path, whole pixels plus
    a sub-pixel phase (bilinear), hard-edged like a foreground object; a cut-out of other channels
    than the clip's is made grey (its channels' mean, in each of the clip's). ``speed``: (least,
    most) pixels per frame, in a random direction; by default each axis moves -3..3 px per frame."""
    t, _, h, w = clip.shape
    if cutout.shape[0] != clip.shape[1]:
        cutout = cutout.mean(0, keepdim=True).expand(clip.shape[1], -1, -1).contiguous()
    ch, cw = cutout.shape[-2:]
    start = np.array([rng.uniform(-cw / 2, w - cw / 2), rng.uniform(-ch / 2, h - ch / 2)])
    if speed is None:
        velocity = rng.uniform(-3.0, 3.0, size=2)
    else:
        angle = rng.uniform(0.0, 2 * np.pi)
        velocity = rng.uniform(*speed) * np.array([np.cos(angle), np.sin(angle)])
        # Start so that the path crosses the middle of the frame half way through the clip.
        start = np.array([w / 2 - cw / 2, h / 2 - ch / 2]) - velocity * (t - 1) / 2 + rng.uniform(-0.2, 0.2, size=2) * (w, h)
    out = clip.clone()
    padded = F.pad(torch.cat([cutout, torch.ones(1, ch, cw)])[None], (1, 1, 1, 1))  # picture and alpha
    for i in range(t):
        x, y = start + i * velocity  # the cut-out's top-left corner in this frame
        canvas = torch.zeros(1, cutout.shape[0] + 1, h, w)
        left, top = int(np.floor(x)), int(np.floor(y))
        fx, fy = float(x - left), float(y - top)
        shifted = F.grid_sample(padded, _shift_grid(padded.shape, fx, fy), mode="bilinear", align_corners=False)
        y0, x0 = top - 1, left - 1
        ys, xs = max(0, y0), max(0, x0)
        ye, xe = min(h, y0 + ch + 2), min(w, x0 + cw + 2)
        if ye > ys and xe > xs:
            canvas[..., ys:ye, xs:xe] = shifted[..., ys - y0:ye - y0, xs - x0:xe - x0]
        alpha = canvas[0, -1:]
        out[i] = out[i] * (1 - alpha) + canvas[0, :-1] * alpha
    return out


def _shift_grid(shape, dx: float, dy: float) -> torch.Tensor:
    _, _, h, w = shape
    theta = torch.tensor([[[1.0, 0.0, -2 * dx / w], [0.0, 1.0, -2 * dy / h]]])
    return F.affine_grid(theta, list(shape), align_corners=False)


def interp_inputs(first: torch.Tensor, second: torch.Tensor, fraction: float) -> torch.Tensor:
    """The interpolation net's input (1, 6, H, W) for grey frames ``first``, ``second`` (1, 1, H, W)."""
    from restoration.ops.interpolate import pair_candidates

    c = pair_candidates(first, second, torch.tensor([fraction]))[0]
    return stack_interp_inputs(c)


def stack_interp_inputs(c) -> torch.Tensor:
    """``ops.interpolate.PairCandidates`` of grey frames -> (1, 6, H, W) in ``nets.INTERP_INPUTS`` order."""
    plane = torch.full_like(c.estimate, c.fraction)
    return torch.cat([c.estimate, c.warped_first, c.warped_second, c.trust_first, c.trust_second, plane], dim=1)


def interp_example(image: torch.Tensor, cutout: torch.Tensor, seed: int, *, size: tuple[int, int] = INTERP_SIZE,
                   gap: tuple[int, int] | None = None, noise: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(net input (1, 6, H, W), true frame (1, 1, H, W)) from one photograph and one cut-out."""
    from restoration.degrade import synthetic_clip

    rng = np.random.default_rng([seed, 13])
    span, offset = gap or INTERP_GAPS[int(rng.integers(len(INTERP_GAPS)))]
    motion = MOTIONS[int(rng.integers(len(MOTIONS)))]
    length = int(rng.integers(max(12, span + 1), 41))
    first = int(rng.integers(0, length - span))
    clip = luma(synthetic_clip(image, frames=length, size=size, seed=seed, motion=motion)[first:first + span + 1], weights=NET_LUMA)
    side = int(rng.integers(40, 91)) * min(size) // 160
    y, x = int(rng.integers(0, cutout.shape[-2] - side + 1)), int(rng.integers(0, cutout.shape[-1] - side + 1))
    piece = luma(cutout[None, :, y:y + side, x:x + side].float(), weights=NET_LUMA)[0]
    frames = moving_cutout(clip, piece, rng)
    if noise and rng.random() < 0.5:
        frames = frames * torch.from_numpy(rng.uniform(0.96, 1.04, size=(frames.shape[0], 1, 1, 1))).float()
    if noise and rng.random() < 0.5:
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        frames = frames + float(rng.uniform(0.0, 0.03)) * torch.randn(frames.shape, generator=gen)
    frames = frames.clamp(0, 1)
    return interp_inputs(frames[:1], frames[span:], offset / span), frames[offset:offset + 1]


def interp_stream(seed: int, *, batch_size: int = 16, crop: int = 96, pool_examples: int = 600,
                  size: tuple[int, int] = INTERP_SIZE, held_out: tuple[str, ...] = HELD_OUT
                  ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless seeded stream of (net input (N, 6, crop, crop), true frame (N, 1, crop, crop)).

    The classical candidates cost far more than a training step, so a pool of examples is made
    once and crops with flips are drawn from it (one example is replaced every 4 batches)."""
    train, _ = split_sources(held_out)
    rng = np.random.default_rng([seed, 3])

    def new_example():
        (_, image), (_, cutout) = (train[int(i)] for i in rng.choice(len(train), size=2, replace=False))
        return interp_example(image, cutout, int(rng.integers(2**31)), size=size)

    pool = [new_example() for _ in range(pool_examples)]
    batches = 0
    while True:
        batches += 1
        if batches % 4 == 0:
            pool[int(rng.integers(len(pool)))] = new_example()
        inputs, targets = [], []
        for _ in range(batch_size):
            x, target = pool[int(rng.integers(len(pool)))]
            h, w = x.shape[-2:]
            y0, x0 = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
            x, target = x[..., y0:y0 + crop, x0:x0 + crop], target[..., y0:y0 + crop, x0:x0 + crop]
            if rng.random() < 0.5:
                x, target = x.flip(-1), target.flip(-1)
            if rng.random() < 0.5:
                x, target = x.flip(-2), target.flip(-2)
            inputs.append(x)
            targets.append(target)
        yield torch.cat(inputs), torch.cat(targets)


def interp_validation(*, held_out: tuple[str, ...] = HELD_OUT, size: tuple[int, int] = INTERP_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed validation set: each held-out photograph with another held-out one as the moving
    cut-out, two seeds for each gap the benchmark scores, no grain."""
    _, valid = split_sources(held_out)
    inputs, targets = [], []
    for index, (_, image) in enumerate(valid):
        cutout = valid[(index + 1) % len(valid)][1]
        for level, gap in enumerate(INTERP_VALIDATION_GAPS * 2):
            x, target = interp_example(image, cutout, 70_000 + 10 * index + level, size=size, gap=gap, noise=False)
            inputs.append(x)
            targets.append(target)
    return torch.cat(inputs), torch.cat(targets)
