"""Vertical line scratch removal.

A projector or printer scratch is a thin (1-5 px), nearly full-height, bright or dark line that
stays on many consecutive frames and drifts slowly sideways. Detection, per frame:

1. a line response per pixel: how much brighter (darker) it is than BOTH the pixels 3-5 columns
   to its left and those 3-5 columns to its right. Requiring both sides rejects picture edges
   (a step is different from one side only), while a line stands out from both about equally;
2. the response is averaged down each column (grain averages away, a long line adds up) and
   columns whose average stands out from the robust spread of the profile are candidates;
3. a candidate must persist: the previous or next frame has a candidate of the same polarity
   within two columns (scratches persist and drift slowly; isolated vertical-ish picture detail
   and grain do not);
4. each candidate column is verified per segment of rows, so a scratch that covers only part
   of the height is repaired only there.

Repair replaces the masked pixels of each row by linear interpolation between the nearest
undamaged pixels to their left and right (optionally temporally from motion-compensated
neighbours, where those are not scratched at the same place).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.luma import REC601_LUMA, luma  # Rec. 601: the luma this op's thresholds were tuned on
from restoration.ops._common import check_frames, max_filter, min_filter, reflected_indices
from restoration.ops.flow import ChainedFlows, align, brightness_offset, inside, warp
from restoration.ops.opspec import OpSpec, Param

__all__ = ["detect_scratches", "fill_scratches", "remove_scratches", "signed_scratches", "Scratch", "SCRATCH_OP"]

SEGMENT_ROWS = 16
# Frames whose neighbours are motion-compensated per batch (bounds memory on large frames).
FRAMES_PER_BATCH = 8
# Columns on each side used as the reference for the line response: from NEAR to FAR (inclusive).
NEAR, FAR = 3, 5
# Smallest column-mean line response taken for a scratch: on a clean, smooth picture the robust
# spread of the profile is tiny and 6 spreads picked up ordinary picture lines (a clean clip
# came out at 27-36 dB against itself; at 0.03 the astronaut photo still did, at 36-38 dB).
MIN_LINE_CONTRAST = 0.05


def _side_ranges(grey: torch.Tensor):
    """Min and max of columns x-FAR..x-NEAR (left) and x+NEAR..x+FAR (right), replicated edges."""
    w = grey.shape[-1]
    half = (FAR - NEAR) // 2  # the side windows are centred (NEAR + FAR) / 2 columns away
    centre = (NEAR + FAR) // 2
    low, high = min_filter(grey, (0, half)), max_filter(grey, (0, half))
    stacked = F.pad(torch.cat((low, high), 1), (centre, centre, 0, 0), mode="replicate")
    left, right = stacked[..., :w], stacked[..., 2 * centre:2 * centre + w]
    channels = grey.shape[1]
    return left[:, :channels], left[:, channels:], right[:, :channels], right[:, channels:]


def _line_response(grey: torch.Tensor) -> torch.Tensor:
    """Signed response (N,1,H,W): > 0 for a bright line, < 0 for a dark one, ~0 on edges.

    A bright line pixel is brighter than every reference pixel on both sides (a dark one darker):
    taking the extremes rather than means keeps a reference window that straddles a picture edge
    from faking a line next to it.
    """
    left_min, left_max, right_min, right_max = _side_ranges(grey)
    bright = torch.minimum(grey - left_max, grey - right_max)
    dark = torch.minimum(left_min - grey, right_min - grey)
    # A line stands out about equally from both sides; beside a picture edge one side differs
    # much more than the other, so the asymmetry is held against the response.
    asymmetry = 0.15 * ((left_min + left_max) - (right_min + right_max)).abs()
    return (bright - asymmetry).clamp_min(0.0) - (dark - asymmetry).clamp_min(0.0)


def _segment_means(response: torch.Tensor) -> torch.Tensor:
    """(N, 1, S, W): mean response over segments of SEGMENT_ROWS rows (last one may be shorter)."""
    return F.avg_pool2d(response, (SEGMENT_ROWS, 1), ceil_mode=True)


def _candidate_columns(profile: torch.Tensor, sensitivity: float) -> torch.Tensor:
    """Signed candidates (N, W) in {-1, 0, 1} from column profiles (N, W)."""
    centred = profile - profile.median(dim=1, keepdim=True).values
    spread = centred.abs().median(dim=1, keepdim=True).values / 0.6745
    threshold = torch.maximum(6.0 * spread, torch.full_like(spread, MIN_LINE_CONTRAST)) / sensitivity
    return torch.sign(centred) * (centred.abs() > threshold)


def _aligned_neighbours(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frames t-1 and t+1 (reflected at the ends) warped onto t: (2T, ...) previous first, their
    flows (2T, 2, H, W) and their indices (2T,)."""
    index = reflected_indices(frames.shape[0], (-1, 1), device=frames.device).reshape(-1)
    centres = frames.repeat(2, 1, 1, 1)
    aligned, flow = align(centres, frames[index], return_flow=True)
    return aligned, flow, index


def _column_profile(response: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    segments = _segment_means(response)  # (N, 1, S, W)
    # Column profile: the median over segments, so a scratch on most of the height counts fully
    # and a short bright picture detail does not.
    return segments, segments.median(dim=2).values[:, 0]  # (N, W)


def _sampling_grid(flow: torch.Tensor, columns: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """grid_sample grid (N, H, len(columns), 2) for a flow given on a subset of columns."""
    xs = (columns.to(flow.dtype) + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
    ys = (torch.arange(h, device=flow.device, dtype=flow.dtype).view(h, 1) + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
    return torch.stack((xs, ys), dim=-1)


def _is_picture_content(candidates: torch.Tensor, profile: torch.Tensor, frames: torch.Tensor,
                        motion) -> torch.Tensor:
    """(T, W) bool: candidate lines that moved with the picture (found again at the same place
    in a motion-compensated neighbour that moved by more than a pixel there)."""
    t_count, _, h, w = frames.shape
    index = reflected_indices(t_count, (-1, 1), device=frames.device).reshape(-1)  # previous, then next
    if motion is not None:
        aligned, flow, index = motion
        _, aligned_profile = _column_profile(_line_response(luma(aligned, weights=REC601_LUMA)))  # (2T, W)
        moved = flow[:, 0].abs().median(dim=1).values > 1.0  # (2T, W)
    else:
        # Only the columns around candidates are needed: warp just those (with FAR columns of
        # margin for the line response's references). One motion estimate per pair of
        # consecutive frames, reused for both of their neighbours, chunk by chunk (memory).
        near = max_filter(candidates.abs().amax(0).view(1, 1, 1, w), (0, FAR + 1)).view(w) > 0
        columns = torch.nonzero(near).flatten()
        grey = luma(frames, weights=REC601_LUMA)
        aligned_profile = frames.new_zeros(2 * t_count, w)
        moved = torch.zeros(2 * t_count, w, dtype=torch.bool, device=frames.device)
        flows = ChainedFlows(frames)
        for first in range(0, t_count, FRAMES_PER_BATCH):
            last = min(first + FRAMES_PER_BATCH, t_count)
            flows.prepare(range(first - 1, last))
            rows = torch.cat((torch.arange(first, last), torch.arange(first, last) + t_count)).tolist()
            flow = torch.cat([flows.between(r % t_count, int(index[r])) for r in rows]).index_select(-1, columns)
            grid = _sampling_grid(flow.to(frames.dtype), columns, h, w)
            aligned = F.grid_sample(grey[index[rows]], grid, mode="bilinear", padding_mode="border", align_corners=True)
            _, partial = _column_profile(_line_response(aligned))
            aligned_profile[torch.tensor(rows, device=frames.device)[:, None], columns] = partial
            moved[torch.tensor(rows, device=frames.device)[:, None], columns] = flow[:, 0].abs().median(dim=1).values > 1.0
            flows.forget_before(last - 1)
    sign = candidates.repeat(2, 1)
    # A scratch stays put in the frame: it is found again in the neighbour as it is, at the same
    # column, and in the neighbour aligned on the picture it sits |u| pixels away. Picture
    # detail is the other way round. Only where the picture moved can the two be told apart.
    in_aligned = aligned_profile * sign
    in_unaligned = profile[index] * sign
    strength = profile.abs().repeat(2, 1)
    # Margins keep the decision stable (windowed == whole clip) where the two are about equal.
    found = (in_aligned >= 0.5 * strength) & (in_aligned > in_unaligned + 0.25 * strength)
    content = found & moved
    return content[:t_count] | content[t_count:]


def _detect(frames: torch.Tensor, sensitivity: float, motion=None) -> torch.Tensor:
    grey = luma(frames, weights=REC601_LUMA)
    h = grey.shape[-2]
    # Frame by frame: the line response's side ranges and differences, and the mask's filters,
    # are several copies of the luma each (1.7 GiB above the frames for four 4K frames at once:
    # the classical chain's peak, docs/BENCHMARKS.md issue #18).
    parts = [_column_profile(_line_response(image[None])) for image in grey]
    segments, profile = torch.cat([part[0] for part in parts]), torch.cat([part[1] for part in parts])
    candidates = _candidate_columns(profile, sensitivity)  # (T, W)

    t_count = frames.shape[0]
    if t_count > 1:
        neighbours = reflected_indices(t_count, (-1, 1), device=frames.device)
        near_bright = F.max_pool1d(candidates.clamp_min(0).unsqueeze(1), 5, stride=1, padding=2)[:, 0]
        near_dark = F.max_pool1d((-candidates).clamp_min(0).unsqueeze(1), 5, stride=1, padding=2)[:, 0]
        persists_bright = (near_bright[neighbours[0]] + near_bright[neighbours[1]]) > 0
        persists_dark = (near_dark[neighbours[0]] + near_dark[neighbours[1]]) > 0
        candidates = torch.where(candidates > 0, candidates * persists_bright, candidates * persists_dark)

    # A line makes the columns a few pixels beside it look like a weak line of the opposite
    # polarity (it sits in their reference); keep only the dominant polarity around each line.
    span = 2 * (FAR + 1) + 1
    magnitude = profile.abs().unsqueeze(1)
    strongest_bright = F.max_pool1d(magnitude * (candidates > 0).unsqueeze(1), span, stride=1, padding=FAR + 1)[:, 0]
    strongest_dark = F.max_pool1d(magnitude * (candidates < 0).unsqueeze(1), span, stride=1, padding=FAR + 1)[:, 0]
    candidates = torch.where(candidates > 0, candidates * (strongest_bright >= strongest_dark),
                             candidates * (strongest_dark >= strongest_bright))

    # Thin vertical picture detail (poles, edges of buildings) moves with the picture.
    if t_count > 1 and bool(candidates.any()):
        candidates = candidates * ~_is_picture_content(candidates, profile, frames, motion)

    # Verify per row segment: same polarity and at least a third of the column's strength.
    sign = candidates.view(t_count, 1, 1, -1)
    strength = (profile.abs() * candidates.abs()).view(t_count, 1, 1, -1)
    verified = (segments * sign > strength / 3.0) & (sign != 0)
    segment_signs = verified.to(frames.dtype) * sign  # (T, 1, S, W)
    return torch.cat([_line_mask(one[None], h) for one in segment_signs])  # frame by frame, as above


def _line_mask(segment_signs: torch.Tensor, h: int) -> torch.Tensor:
    """(N, 1, H, W) from the segments' signs (N, 1, S, W), the line's soft edges covered: +1
    marks a bright line, -1 a dark one."""
    signed = segment_signs.repeat_interleave(SEGMENT_ROWS, dim=2)[..., :h, :]
    return max_filter(signed.clamp_min(0), (0, 1)) - max_filter((-signed).clamp_min(0), (0, 1))


def detect_scratches(frames: torch.Tensor, *, sensitivity: float = 1.0) -> torch.Tensor:
    """Mask (T, 1, H, W) in {0, 1} of vertical line scratches.

    ``sensitivity`` scales the thresholds down (higher finds fainter lines). The result at
    frame t depends on frames t-1..t+1 only.
    """
    check_frames(frames, "scratch")
    if sensitivity <= 0:
        raise SpecError(f"scratch: sensitivity must be positive, got {sensitivity}")
    return _detect(frames, sensitivity).abs()


def _interpolate_rows(frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Replace masked pixels by linear interpolation between the nearest unmasked pixels of their row."""
    t_count, channels, h, w = frames.shape
    damaged = mask[:, 0] > 0.5  # (T, H, W)
    columns = torch.arange(w, device=frames.device).expand(t_count, h, w)
    left = torch.where(damaged, torch.full_like(columns, -1), columns).cummax(dim=-1).values
    right = torch.where(damaged, torch.full_like(columns, w), columns).flip(-1).cummin(dim=-1).values.flip(-1)
    has_left, has_right = left >= 0, right < w
    left_safe, right_safe = left.clamp(0, w - 1), right.clamp(0, w - 1)
    distance = (right_safe - left_safe).clamp_min(1).to(frames.dtype)
    weight_right = ((columns - left_safe).to(frames.dtype) / distance)
    weight_right = torch.where(has_left, torch.where(has_right, weight_right, torch.zeros_like(weight_right)),
                               torch.ones_like(weight_right))
    gather_left = frames.gather(-1, left_safe.unsqueeze(1).expand(t_count, channels, h, w))
    gather_right = frames.gather(-1, right_safe.unsqueeze(1).expand(t_count, channels, h, w))
    filled = gather_left + (gather_right - gather_left) * weight_right.unsqueeze(1)
    return torch.where(damaged.unsqueeze(1), filled, frames)


def remove_scratches(frames: torch.Tensor, *, sensitivity: float = 1.0, temporal: bool = False) -> torch.Tensor:
    """Frames (T, C, H, W) with vertical line scratches detected and filled.

    ``temporal``: where the motion-compensated previous/next frames are not scratched at the
    same place (the camera moved relative to the line), fill from their average instead of
    interpolating across the row; costs two motion estimates per frame.
    """
    check_frames(frames, "scratch")
    if sensitivity <= 0:
        raise SpecError(f"scratch: sensitivity must be positive, got {sensitivity}")
    motion = _aligned_neighbours(frames) if temporal and frames.shape[0] > 1 else None
    signed = _detect(frames, sensitivity, motion)
    if not bool(signed.any()):
        return frames.clone()
    if motion is None:
        return fill_scratches(frames, signed)
    mask = signed.abs()
    repaired = _interpolate_rows(frames, mask)
    if motion is not None:
        _, flow, index = motion
        centres = frames.repeat(2, 1, 1, 1)
        # Neighbours with their own scratches filled, aligned, brightness matched; their scratch
        # masks follow the same flow so that a neighbour's own scratch is never copied in.
        aligned = warp(repaired[index], flow)
        aligned = aligned + brightness_offset(centres, aligned)
        aligned_mask = warp(mask[index], flow)
        usable = (aligned_mask < 0.1) & (inside(flow) == 1)
        previous, following = aligned.chunk(2)
        usable_previous, usable_following = usable.chunk(2)
        both = usable_previous & usable_following
        temporal_fill = torch.where(both, 0.5 * (previous + following),
                                    torch.where(usable_previous, previous, following))
        use = (mask > 0.5) & (usable_previous | usable_following)
        repaired = torch.where(use, temporal_fill, repaired)
    return _keep_polarity(repaired, frames, signed)


def _keep_polarity(repaired: torch.Tensor, frames: torch.Tensor, signed: torch.Tensor) -> torch.Tensor:
    # A bright scratch only ever added light and a dark one only took it away: the repair may
    # only darken (brighten) their pixels. Where the mask took in picture detail or the line's
    # surroundings, the fill is then never worse than leaving the pixel alone on that side.
    repaired = torch.where(signed > 0, torch.minimum(repaired, frames),
                           torch.where(signed < 0, torch.maximum(repaired, frames), repaired))
    return repaired.clamp(0.0, 1.0)


def signed_scratches(frames: torch.Tensor, *, sensitivity: float = 1.0) -> torch.Tensor:
    """(T, 1, H, W): +1 on bright scratches, -1 on dark ones, 0 elsewhere (the whole-frame estimate:
    column profiles and persistence need whole rows; the pipeline's tiles share it)."""
    check_frames(frames, "scratch")
    if sensitivity <= 0:
        raise SpecError(f"scratch: sensitivity must be positive, got {sensitivity}")
    return _detect(frames, sensitivity)


def fill_scratches(frames: torch.Tensor, signed: torch.Tensor) -> torch.Tensor:
    """The row-interpolation repair of :func:`signed_scratches`' lines (no temporal fill): each
    pixel needs only its row's nearest unmasked pixels, so a tile wider than the lines repairs
    its pixels as the whole frame would."""
    return _keep_polarity(_interpolate_rows(frames, signed.abs()), frames, signed)


class Scratch(torch.nn.Module):
    """Module form of :func:`remove_scratches`."""

    def __init__(self, *, sensitivity: float = 1.0, temporal: bool = False) -> None:
        super().__init__()
        self.sensitivity = sensitivity
        self.temporal = temporal

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return remove_scratches(frames, sensitivity=self.sensitivity, temporal=self.temporal)


SCRATCH_OP = OpSpec(
    name="scratch",
    function=remove_scratches,
    module=Scratch,
    params={
        "sensitivity": Param(float, 1.0, minimum=0.25, maximum=4.0,
                             help="higher finds fainter lines (and risks taking picture detail for one)"),
        "temporal": Param(bool, False, help="fill from motion-compensated neighbours where they are clean"),
    },
    temporal_radius=1,
    tileable=True,  # detected on the whole frame, filled per tile (pipeline.tiling)
    description="vertical line scratch removal",
)
