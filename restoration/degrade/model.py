"""The damage model: ``degrade`` runs the defects over a clean clip and returns the damaged clip and masks."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from restoration.degrade.compression import compress
from restoration.degrade.defects import (
    active_events,
    add_dust,
    add_flicker,
    add_grain,
    add_hairs,
    fade_colour,
    gaussian_blur,
    line_scratch,
    texture_scratch,
    translate,
    weave_shift,
)
from restoration.degrade.parameters import PARAM_RANGES, REFERENCE_SIZE, sample_params
from restoration.degrade.randomness import STREAM_TAGS, keyed_generator, normal
from restoration.errors import RestorationError

# Whole-frame effects (weave, flicker, grain) are computed for this many frames at once.
FRAME_GROUP = 16
# A defect that moves a pixel's value by more than this puts the pixel in a mask (a dark speck
# on a black coat changes nothing visible and is not masked).
MASK_THRESHOLD = 0.08


@dataclass
class Damage:
    """``clean`` and ``damaged`` are (T, C, H, W); masks are (T, 1, H, W) in {0, 1}, aligned with
    ``damaged`` (defects are drawn after gate weave): a pixel is masked where a defect changed it
    by more than ``MASK_THRESHOLD`` (before compression). ``params`` are the per-clip parameters."""

    clean: torch.Tensor
    damaged: torch.Tensor
    masks: dict[str, torch.Tensor]
    params: dict = field(default_factory=dict)


def _check_frames(frames: torch.Tensor, what: str = "clean") -> None:
    if not isinstance(frames, torch.Tensor):
        raise RestorationError(f"{what} must be a torch.Tensor, got {type(frames).__name__}")
    if frames.dim() != 4 or frames.shape[1] not in (1, 3) or frames.shape[0] < 1:
        raise RestorationError(f"{what} must be (T, C, H, W) with T >= 1 and C 1 or 3, got shape {tuple(frames.shape)}")
    if not frames.is_floating_point():
        raise RestorationError(f"{what} must be a float tensor in [0, 1], got {frames.dtype}")
    if frames.shape[2] < 8 or frames.shape[3] < 8:
        raise RestorationError(f"{what} frames must be at least 8x8, got {frames.shape[3]}x{frames.shape[2]}")


def degrade(clean: torch.Tensor, *, seed: int, strength: str = "medium", device=None, first_frame: int = 0,
            params: dict | None = None) -> Damage:
    """Damage a clean clip (T, C, H, W) in [0, 1] like old film. Same seed (and strength) ->
    identical output. ``params`` (from ``sample_params``) overrides the per-clip parameters;
    ``first_frame`` is the absolute number of ``clean[0]`` when a clip is processed in chunks.
    Masks: ``dust`` (blotches, dirt, hairs), ``scratch`` (line scratches), ``all`` (either)."""
    _check_frames(clean)
    if isinstance(first_frame, bool) or not isinstance(first_frame, int) or first_frame < 0:
        raise RestorationError(f"first_frame must be a non-negative integer, got {first_frame!r}")
    if params is None:
        params = sample_params(seed, strength)
    else:
        missing = set(PARAM_RANGES["medium"]) - set(params)
        if missing:
            raise RestorationError(f"params lack {', '.join(sorted(missing))}")
        params = {**params, "seed": int(seed)}
    device = torch.device(device) if device is not None else clean.device
    clean = clean.to(device=device, dtype=torch.float32)
    t, channels, h, w = clean.shape
    resolution = min(h, w) / REFERENCE_SIZE

    with torch.no_grad():
        frames = torch.empty_like(clean)
        dust = torch.zeros(t, 1, h, w, device=device)
        scratch = torch.zeros(t, 1, h, w, device=device)
        for start in range(0, t, FRAME_GROUP):  # whole-frame effects run on groups of frames
            numbers = list(range(first_frame + start, first_frame + min(t, start + FRAME_GROUP)))
            # A copy: with no blur, fade, weave, flicker or grain the steps below return their input,
            # and the defects are drawn in place.
            group = clean[start:start + len(numbers)].clone()
            if params["blur_sigma"] > 0:
                sigmas = [params["blur_sigma"] * resolution * (1 + 0.15 * normal(keyed_generator(params["seed"], STREAM_TAGS["blur"], n))) for n in numbers]
                group = gaussian_blur(group, [max(0.0, sigma) for sigma in sigmas])
            if channels == 3 and (params["fade_amount"] > 0 or params["fade_desaturation"] > 0):
                group = fade_colour(group, params)
            group = translate(group, [weave_shift(params, n, resolution) for n in numbers])
            group = add_flicker(group, params, numbers)
            group = add_grain(group, params, numbers, resolution).clamp_(0, 1)
            for i, n in enumerate(numbers):  # defects drawn on the film, frame by frame
                frame, index = group[i], start + i
                add_dust(frame, dust[index, 0], params, n, resolution)
                add_hairs(frame, dust[index, 0], params, n, resolution)
                for event in active_events(params, n):
                    render = line_scratch if event.kind == "line" else texture_scratch
                    render(frame, scratch[index, 0], event, params, n, resolution)
            frames[start:start + len(numbers)] = group
        damaged = compress(frames.clamp(0, 1), params, first_frame).clamp(0, 1)

    dust_mask = (dust > MASK_THRESHOLD).float()
    scratch_mask = (scratch > MASK_THRESHOLD).float()
    masks = {"dust": dust_mask, "scratch": scratch_mask, "all": torch.maximum(dust_mask, scratch_mask)}
    return Damage(clean=clean, damaged=damaged, masks=masks, params=params)
