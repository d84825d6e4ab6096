"""Compression deblocking: soften the 8x8 (or 16x16) block edges of JPEG / MPEG / H.264 copies.

Block-transform codecs quantise each block on its own, so a smooth gradient becomes a staircase
whose steps sit on the block grid. As in H.264's in-loop filter, each boundary is filtered only
where the step across it is small (a large step is a real edge) and the pixels on both sides
are smooth (in texture the steps are masked, and estimating them there is unreliable). Unlike a
smoothing filter, the correction is *additive*: the excess step (the jump across the boundary
beyond what the local slope predicts) is spread as a linear ramp over the pixels on both sides,
so texture inside the block is kept while the step disappears.

The grid phase is found per frame (a cropped or shifted copy has its grid off the origin), and
the thresholds follow the measured strength of the blocking, so one setting fits light and heavy
compression. ``blockiness`` gives the boundary / interior gradient ratio for analysis.
"""

from __future__ import annotations

import torch

from restoration.errors import SpecError
from restoration.luma import REC601_LUMA, luma  # Rec. 601: the luma this op's thresholds were tuned on
from restoration.ops._common import check_frames
from restoration.ops.opspec import OpSpec, Param

__all__ = ["deblock", "blockiness", "Deblock", "find_grid_phase", "DEBLOCK_OP"]

_HALF_WIDTH = 4  # pixels on each side of a boundary that the ramp touches (at most half a block)
_EDGE_FACTOR = 16.0  # steps above this many blocking levels are real edges
_TEXTURE_FACTOR = 4.0  # sides rougher than this many blocking levels are texture


def _check_block_size(block_size: int, name: str) -> None:
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size not in (4, 8, 16, 32):
        raise SpecError(f"{name}: block_size must be 4, 8, 16 or 32, got {block_size!r}")


def _column_steps(grey: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) -> (N, W-1) mean absolute horizontal difference between columns x and x+1."""
    return (grey[..., 1:] - grey[..., :-1]).abs().mean(dim=(1, 2))


def _phase_profile(steps: torch.Tensor, block_size: int) -> torch.Tensor:
    """(N, W-1) column steps -> (N, block_size) mean step at each grid phase.

    Phase p means boundaries between columns x-1 and x for x = p (mod block_size).
    """
    n, length = steps.shape
    boundary_x = torch.arange(1, length + 1, device=steps.device)  # step j lies between j and j+1
    phase = boundary_x % block_size
    sums = steps.new_zeros(n, block_size).index_add_(1, phase, steps)
    counts = steps.new_zeros(block_size).index_add_(0, phase, torch.ones_like(steps[0]))
    return sums / counts.clamp_min(1)


def find_grid_phase(frames: torch.Tensor, block_size: int = 8) -> torch.Tensor:
    """Per-frame grid phase (T, 2) as (x, y): where the block boundaries lie, modulo block_size."""
    check_frames(frames, "find_grid_phase")
    _check_block_size(block_size, "find_grid_phase")
    grey = luma(frames, weights=REC601_LUMA)
    phase_x = _phase_profile(_column_steps(grey), block_size).argmax(dim=1)
    phase_y = _phase_profile(_column_steps(grey.transpose(-1, -2)), block_size).argmax(dim=1)
    return torch.stack((phase_x, phase_y), dim=1)


def blockiness(frames: torch.Tensor, block_size: int = 8) -> float:
    """Mean absolute step across block boundaries / mean step elsewhere (both directions).

    About 1 for an image without blocking; JPEG at low quality gives 1.5-3. The grid phase is
    the one with the largest boundary steps (found per frame), so a cropped copy is measured
    right; the maximum makes a clean image read slightly above 1.
    """
    check_frames(frames, "blockiness")
    _check_block_size(block_size, "blockiness")
    if min(frames.shape[-2:]) < 2 * block_size:
        raise SpecError(f"blockiness: frames must be at least {2 * block_size}x{2 * block_size} to compare block "
                        f"boundaries with block interiors, got {tuple(frames.shape[-2:])}")
    grey = luma(frames, weights=REC601_LUMA).float()
    boundary_total, interior_total = 0.0, 0.0
    for image in (grey, grey.transpose(-1, -2)):
        profile = _phase_profile(_column_steps(image), block_size)  # (N, B)
        boundary = profile.max(dim=1).values
        interior = (profile.sum(dim=1) - boundary) / (block_size - 1)
        boundary_total += float(boundary.sum())
        interior_total += float(interior.sum())
    return boundary_total / max(interior_total, 1e-12)


def _blocking_level(image: torch.Tensor, phase: int, block_size: int) -> torch.Tensor:
    """How much larger the steps across block boundaries are than elsewhere (0 without blocking)."""
    profile = _phase_profile(_column_steps(luma(image[None], weights=REC601_LUMA)), block_size)[0]
    boundary = profile[phase]
    interior = (profile.sum() - boundary) / (block_size - 1)
    return (boundary - interior).clamp_min(0.25 / 255.0)


def _deblock_columns(images: torch.Tensor, phases: torch.Tensor, block_size: int, strength: float,
                     levels: torch.Tensor | None = None) -> torch.Tensor:
    """Filter the vertical block boundaries (between columns) of (N, C, H, W) images.

    ``levels`` (N,): each image's blocking level when it was measured elsewhere (on the whole
    frame, for a tile of it); by default measured on the image itself."""
    n, c, h, w = images.shape
    half = min(_HALF_WIDTH, block_size // 2)
    out = images.clone()
    for index in range(n):
        first = int(phases[index])
        xs = torch.arange(first, w, block_size, device=images.device)
        xs = xs[(xs >= half) & (xs <= w - half)]  # room for `half` pixels on each side
        if xs.numel() == 0:
            continue
        image = images[index]  # (C, H, W)
        p = torch.stack([image[..., xs - 1 - i] for i in range(half)])  # (half, C, H, K): p0 next to the boundary
        q = torch.stack([image[..., xs + i] for i in range(half)])
        # Excess step: the jump across the boundary beyond what the slopes on each side predict.
        slope = 0.5 * ((p[0] - p[1]) + (q[1] - q[0]))
        excess = (q[0] - p[0]) - slope
        # Texture on each side: the largest neighbouring difference inside the ramp's reach.
        activity = torch.maximum((p[:-1] - p[1:]).abs().amax(dim=0), (q[1:] - q[:-1]).abs().amax(dim=0))
        # Thresholds follow the blocking actually present: the typical excess step in this
        # image sets the scale, so heavy compression gets a stronger filter than light.
        typical = _blocking_level(image, first, block_size) if levels is None else levels[index]
        alpha = strength * _EDGE_FACTOR * typical  # larger steps are real edges
        beta = strength * _TEXTURE_FACTOR * typical + 1e-6  # rougher sides are texture
        edge_weight = (1.0 - excess.abs() / (alpha + 1e-6)).clamp(0.0, 1.0)
        flat_weight = (1.0 - activity / beta).clamp(0.0, 1.0)
        weight = (edge_weight * flat_weight.sqrt()).clamp(0.0, 1.0)
        correction = weight * excess.clamp(-alpha, alpha)
        # Linear ramp: the step is shared evenly by the 2*half intervals around the boundary.
        ramp = [(half - i - 0.5) / (2 * half) for i in range(half)]
        for i, share in enumerate(ramp):
            out[index, ..., xs - 1 - i] += share * correction
            out[index, ..., xs + i] -= share * correction
    return out


def deblock(frames: torch.Tensor, *, strength: float = 1.0, block_size: int = 8) -> torch.Tensor:
    """Reduce block-grid steps in (T, C, H, W) frames; ``strength`` 0 is a no-op, 1 the default, 2 strong."""
    check_frames(frames, "deblock")
    _check_block_size(block_size, "deblock")
    if not 0.0 <= strength <= 3.0:
        raise SpecError(f"deblock: strength must be in [0, 3], got {strength}")
    if strength == 0:
        return frames.clone()
    phases = find_grid_phase(frames, block_size)
    out = _deblock_columns(frames, phases[:, 0], block_size, strength)
    out = _deblock_columns(out.transpose(-1, -2), phases[:, 1], block_size, strength).transpose(-1, -2)
    return out.clamp(0.0, 1.0).contiguous()


class Deblock(torch.nn.Module):
    """Module form of :func:`deblock`."""

    def __init__(self, *, strength: float = 1.0, block_size: int = 8) -> None:
        super().__init__()
        self.strength = strength
        self.block_size = block_size

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return deblock(frames, strength=self.strength, block_size=self.block_size)


DEBLOCK_OP = OpSpec(
    name="deblock",
    function=deblock,
    module=Deblock,
    params={
        "strength": Param(float, 1.0, minimum=0.0, maximum=3.0, help="0 off, 1 default, 2 strong"),
        "block_size": Param(int, 8, minimum=4, maximum=32, help="codec block size: 8 (JPEG, MPEG) or 16"),
    },
    tileable=True,  # its whole-frame estimate is shared by the tiles (pipeline.tiling)
    description="compression deblocking: smooths block-grid steps where they are not real edges",
)
