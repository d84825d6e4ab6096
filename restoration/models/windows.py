"""The restoration net's input windows: neighbours aligned onto the centre frame, the centre
standing in wherever a neighbour cannot be trusted. One builder for inference
(``learned_ops.restore_frames``) and training (``data.restore_windows``): a net trained on windows
aligned without that fallback removed less where it meets it (heavy damage fails the flow's check
over about half the picture, docs/BENCHMARKS.md issue #19).
"""

from __future__ import annotations

import torch

from restoration.models.nets import split_luma_chroma
from restoration.ops._common import dilate, max_filter, min_filter
from restoration.ops.denoise import estimate_noise
from restoration.ops.dust import UNSEEN_RADIUS
from restoration.ops.flow import ChainedFlows, align_neighbours, alike, chained_flows, trusted

__all__ = ["ALIKE_GRAINS", "median_of_window", "aligned_windows", "clip_window"]

# Tolerance of the likeness test of aligned neighbours, in grain levels (moving-objects bench:
# 2 and 4 score alike; 4 keeps more of the net's gain on heavy damage, blotches included).
ALIKE_GRAINS = 4.0


def median_of_window(values: torch.Tensor) -> torch.Tensor:
    """Median over dim 1 of (N, K, ...), the lower of the two middle values for an even K (as
    ``torch.median``). For K = 5 (the committed net's window) and K = 4 (its neighbours) an exact
    min/max network: several times faster than ``torch.median`` on a CPU, same values."""
    if values.shape[1] not in (4, 5):
        return values.median(dim=1).values
    a, b, c, d = values.unbind(1)[:4]
    low = torch.maximum(torch.minimum(a, b), torch.minimum(c, d))  # 2nd smallest of a..d, or more
    high = torch.minimum(torch.maximum(a, b), torch.maximum(c, d))  # 2nd largest, or less
    if values.shape[1] == 4:
        return torch.minimum(low, high)
    e = values[:, 4]
    return torch.maximum(torch.minimum(low, high), torch.minimum(torch.maximum(low, high), e))


def aligned_windows(frames: torch.Tensor, flows: ChainedFlows, rows: torch.Tensor, radius: int,
                    noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows (n, 2R+1, C, H, W) of ``frames`` (rows (n, 2R+1): their frame numbers) with every
    frame aligned onto the centre one, and where each neighbour fell back (n, 2R, H, W). Where the
    flow fails its check, or the aligned frame does not look like the centre beyond its grain
    (``noise``, per frame), the centre frame stands in: the net cannot take a thing moving on its
    own for dirt, nor blend it into a ghost. The fell-back map is the centre's share in each
    neighbour (1 where the centre stands in, 0 where the neighbour is kept, mixed in between): a
    line in all five frames is confirmed by the neighbours only where they did not fall back."""
    n = rows.shape[0]
    others = [k for k in range(2 * radius + 1) if k != radius]
    flows.prepare(range(int(rows.min()), int(rows.max())))
    centres_index = rows[:, radius].repeat(len(others))  # pairs offset-major
    neighbours = rows[:, others].T.reshape(-1).tolist()
    aligned, confidence = align_neighbours(frames, flows, centres_index.tolist(), neighbours, brightness_limit=None)
    centre = frames[rows[:, radius]]
    centres = centre.repeat(len(others), 1, 1, 1)
    # Misaligned structure the flow's check missed: over 5x5 pixels grain and small dust average out.
    # A neighbour like the centre, or like the other neighbours where the centre is dirty (a
    # blotch too large to average out over 5x5 pixels), is kept.
    tolerance = ALIKE_GRAINS * noise[centres_index] + 0.01
    consensus = median_of_window(aligned.view(len(others), n, *frames.shape[1:]).transpose(0, 1))
    consensus = consensus.repeat(len(others), 1, 1, 1)
    likeness = torch.maximum(alike(aligned, centres, tolerance, radius=2), alike(aligned, consensus, tolerance, radius=2))
    # A blotch in the centre fails the flow's check too. Told apart from a thing moving on its own
    # as the dust op does: the centre's value is found nowhere near in the neighbour (a thing that
    # moves is found a few pixels away). There the neighbour is what the net needs to repair it.
    grey, grey_aligned = split_luma_chroma(centres)[0], split_luma_chroma(aligned)[0]
    margin = tolerance.view(-1, 1, 1, 1)
    blotch = (grey > max_filter(grey_aligned, UNSEEN_RADIUS) + margin) | (grey < min_filter(grey_aligned, UNSEEN_RADIUS) - margin)
    confidence = torch.maximum(confidence, dilate(blotch.to(grey.dtype), 2)) * likeness
    aligned = trusted(aligned, centres, confidence)
    aligned = aligned.view(len(others), n, *frames.shape[1:]).transpose(0, 1)
    fell_back = (1 - confidence).view(len(others), n, *frames.shape[-2:]).transpose(0, 1)
    return torch.cat([aligned[:, :radius], centre[:, None], aligned[:, radius:]], dim=1), fell_back


def clip_window(frames: torch.Tensor, radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The window (1, 2R+1, C, H, W) and fell-back map (1, 2R, H, W) ``learned_restore`` builds for the centre of a clip of
    2R+1 frames (T, C, H, W): the same flows (``ops.flow.chained_flows``), grain level
    (``ops.denoise.estimate_noise``) and fallback (:func:`aligned_windows`). Training windows
    are made with it."""
    with torch.no_grad():
        flows = chained_flows(split_luma_chroma(frames)[0])
        rows = torch.arange(frames.shape[0], device=frames.device)[None]
        return aligned_windows(frames, flows, rows, radius, estimate_noise(frames))
