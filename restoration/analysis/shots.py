"""Shot boundary detection: hard cuts and dissolves, robust to flicker, burns and blotches.

Every frame is reduced to a tiny luma thumbnail (24x32, area-averaged, so grain and dust
mostly vanish). Two thumbnails are compared by a *shift-tolerant normalised distance*:
each is mean-removed and scaled to unit energy (so global brightness and contrast flicker
cancel), and the smallest distance over shifts of up to ``SHIFT`` thumbnail pixels is kept
(so gate weave, camera shake and pans cost little). The distance is ``0.5 * |u - v|^2``,
i.e. ``1 - correlation``: 0 for the same picture, about 1 for unrelated pictures.

Hard cut at frame ``s`` (``s`` is the first frame of the new shot). Its strength is the
smallest distance between any of the two frames before (``s-2, s-1``) and any of the three
frames from ``s`` on (``s, s+1, s+2``). A one- or two-frame burn, flash or blotch differs
from its neighbours, but the frames either side of it still match each other (``s-1`` vs
``s+1`` or ``s+2``), so its strength stays low: damage is not a cut. A cut is reported when
the strength is above ``CUT_MIN_DISTANCE`` *and* ``CUT_LOCAL_RATIO`` times the median
strength around it (an adaptive threshold: a shaky or fast-moving shot raises the bar),
and it is the strongest within ``CUT_SUPPRESS`` frames. No boundary is reported that leaves a
shot of ``SHORT_SEGMENT`` frames or fewer at the clip's start or end: such a segment can be
damage as well as a shot, and with no frame beyond it nothing tells which (``transitions()``,
every method).

Dissolve: at the middle frame ``m`` of a dissolve of length up to ``2k``, frame ``m`` is a
blend of frames ``m-k`` and ``m+k`` (after aligning them to ``m``), while neither of them
alone explains it, and those two differ like a cut. Half-widths ``DISSOLVE_HALF_WIDTHS``
are tried. **A dissolve is reported as one boundary at its middle frame**: the first frame
in which the incoming shot weighs at least as much as the outgoing one.

Wipe: at the middle frame ``m``, each thumbnail pixel matches either frame ``m-k`` or
``m+k`` (after a gain/offset fit, so flicker cancels) and the pixels matching ``m+k`` are cut
from the others by a straight edge (any direction); reported at the frame where the incoming
picture covers half of the changing area. Fade: a run of near-uniform black or white frames
with a picture ramping down before it and up after; one boundary, at the blank run's middle.
A one- to three-frame flash has no ramp. Cuts inside a gradual transition's span are dropped.

Short segments (up to 3 frames between two boundaries: the cut test keeps only the stronger of
two close ones, so the other is added back where the frames changed as much) are reviewed with a
damage-tolerant distance (burnt and clipped areas left out, wider shifts): a boundary stays only
if the pictures either side of it differ, so a 2-frame insert keeps both, while a flash, a burn
or a splice bump (frames jumped ahead and back) keeps none. A cut at a run of frames blurred one
way (a whip pan: the camera travelled, the shot goes on) is dropped.
``transitions()`` gives each boundary's type and span (``Transition``).

The same measurements, as per-frame cues (``ShotDetector.features()``), feed a learned detector
(``restoration.models.shot_net``, trained by ``restoration.analysis.shot_training``):
``transitions(method="learned")``. The default (``DEFAULT_METHOD``) is ``"combined"``: the rules'
boundaries, corrected and completed by the net (``ShotDetector.combined_transitions``):
the net alone is the better detector on damaged footage but misses some transitions between
material unlike its training reels, which the rules measure (the three compared in
docs/BENCHMARKS.md, "Engine: shots"). A third measurement backs the net's cuts it is unsure of
there: distances in a learned frame embedding (``restoration.models.shot_embedding``, of 48x64
thumbnails, trained to tell frames of one shot under damage from frames either side of a cut:
it sees cuts between low-contrast pictures that grain, dust and flicker hide from the 24x32
thumbnails).

Memory is bounded: frames are reduced to thumbnails as they arrive, only the last few
thumbnails are kept, and per frame a handful of floats are stored until ``finish()``.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from restoration.luma import REC601_LUMA, luma
from restoration.models.shot_embedding import EMBEDDING_THUMB_SIZE, embedding_distance, frame_embeddings

THUMB_SIZE = (24, 32)
SHIFT = 2  # thumbnail pixels, about 1/12 of the picture height
FLAT_STD = 0.01  # thumbnails with less contrast than this are treated as (nearly) blank
CUT_MIN_DISTANCE = 0.15
CUT_LOCAL_RATIO = 4.0
CUT_LOCAL_WINDOW = 12  # frames each side used for the local median
CUT_SUPPRESS = 2  # two cuts closer than this: keep the stronger
DISSOLVE_HALF_WIDTHS = (4, 8, 16, 30)  # up to 60-frame dissolves
DISSOLVE_MIN_DISTANCE = 0.3  # endpoints must differ at least this much
DISSOLVE_FIT_RATIO = 0.5  # blend residual must be below this fraction of either single-frame residual
DISSOLVE_WEIGHT_SUM = (0.7, 1.3)  # a dissolve's frame is a convex blend: weights sum to about 1
DISSOLVE_MAX_CONTRAST_DIP = 0.92  # blending two different pictures lowers contrast (std / mean)
CUT_LAGS = (1, 2, 3, 4)
KEEP_AROUND = 4  # frames kept each side of a large change
SHORT_SEGMENT = 3  # frames: a segment this short between two boundaries may be damage
WHIP_MAX = 12  # frames of a whip pan's blur
WHIP_ANISOTROPY = float(np.log(3.0))  # gradient energy ratio (log) of a frame blurred one way
USABLE = 0.25  # fraction of a thumbnail left by burns and clipping below which it is blank
SAME_PICTURE = 0.35  # damage-tolerant distance under which two frames show the same picture
CUT_IN_GRADUAL = 2  # frames: a hard cut this close to a gradual transition's middle is part of it
MAX_TRANSITION = 60  # frames: the longest dissolve, wipe or fade measured
# Wipe: the middle frame is, pixel by pixel, either the frame before or the frame after, and the
# pixels taken from after lie on one side of a straight edge.
WIPE_DIFFERS = 1.0  # thumbnail pixels where before and after differ this much (in their std units)
WIPE_EXPLAINED = 0.35  # a pixel matches an endpoint when closer than this fraction of their difference
WIPE_MIN_EXPLAINED = 0.7  # fraction of differing pixels that must match one endpoint
WIPE_MIN_LENGTH = 4  # frames
WIPE_MIN_RISE = 0.3  # the incoming share must rise this much over the frames that fit a wipe
WIPE_MIN_HALF_PLANE = 0.8  # fraction of them a straight edge must classify right
# Fade: a near-uniform black or white frame, with the picture ramping down into it and up after.
# thumbnail spread (median absolute deviation: dust and scratches on a blank frame do not count)
# below which a frame is blank
BLANK_SPREAD = 0.04
BLANK_BLACK, BLANK_WHITE = 0.15, 0.75  # thumbnail mean of a black / white frame (worn film's white is grey)
FADE_MIN_RAMP = 3  # frames of ramp (down and up together): a flash is abrupt, a fade is not
# Which detector ``transitions()`` runs: the rules above, the learned net over their cues
# (``restoration.models.shot_net``), or the rules corrected by the net (the default;
# figures in docs/BENCHMARKS.md, "Engine: shots"). The combined decision's net probabilities:
COMBINED_SURE = 0.9  # the net's boundary replaces the rules' it overlaps; a net cut is added where they have none
COMBINED_VETO = 0.3  # a rules' boundary is dropped where the net's probability within a frame of it stays below
# a net boundary replaces the rules' ones it overlaps, sure or not, where its probability at their
# frames is below this share of its own peak (it disputes their placement); above, the rules' frame
# and span of a boundary of the same type stay
COMBINED_CONFIRM = 0.85
# a net cut it is unsure of is added where the learned frame embedding backs it: its cut strength
# this many times its local median (the rules' own bar, CUT_LOCAL_RATIO, on the embedding's distances)
COMBINED_BACKING = CUT_LOCAL_RATIO
METHODS = ("classical", "learned", "combined")
DEFAULT_METHOD = "combined"


def gradient_anisotropy(thumbs: torch.Tensor) -> torch.Tensor:
    """Per thumbnail (N, H, W): log of the gradient energy along x over that along y, in float64
    (0 for a picture sharp both ways; far from 0 for one blurred along a direction, a whip pan)."""
    along_x = thumbs.diff(dim=2).pow(2).flatten(1).mean(1).double()
    along_y = thumbs.diff(dim=1).pow(2).flatten(1).mean(1).double()
    return torch.log((along_x + 1e-8) / (along_y + 1e-8))


def luma_thumbnails(frames: torch.Tensor, size: tuple[int, int] = THUMB_SIZE) -> torch.Tensor:
    """(T, C, H, W) in [0, 1] -> (T, 24, 32) (or ``size``) float32 CPU area-averaged luma thumbnails."""
    return _luma_thumbnails(frames, (size,))[0]


def _luma_thumbnails(frames: torch.Tensor, sizes: tuple[tuple[int, int], ...]) -> list[torch.Tensor]:
    """The thumbnails of every size in ``sizes``, from one luma conversion."""
    if frames.ndim != 4 or frames.shape[1] not in (1, 3):
        raise ValueError(f"expected frames (T, C, H, W) with C 1 or 3, got shape {tuple(frames.shape)}")
    # Rec. 601 luma: the cut thresholds were tuned on it.
    grey = luma(frames.float(), weights=REC601_LUMA)
    return [F.adaptive_avg_pool2d(grey, size)[:, 0].cpu() for size in sizes]


def _normalise(x: torch.Tensor) -> torch.Tensor:
    """Mean-removed, unit-energy vectors (..., D); nearly flat ones stay small (see FLAT_STD)."""
    x = x - x.mean(-1, keepdim=True)
    floor = FLAT_STD * x.shape[-1] ** 0.5
    return x / x.norm(dim=-1, keepdim=True).clamp_min(floor)


def _shifted_crops(b: torch.Tensor, shift: int) -> torch.Tensor:
    """All crops of b (N, h, w) shifted by -shift..shift in y and x: (S, N, D), S = (2*shift+1)^2."""
    n, h, w = b.shape
    windows = b.unfold(1, h - 2 * shift, 1).unfold(2, w - 2 * shift, 1)  # N, 2s+1, 2s+1, h', w'
    return windows.reshape(n, (2 * shift + 1) ** 2, -1).transpose(0, 1)


def _centre(a: torch.Tensor, shift: int) -> torch.Tensor:
    h, w = a.shape[-2:]
    return a[..., shift : h - shift, shift : w - shift].reshape(a.shape[0], -1)


def shift_tolerant_distance(a: torch.Tensor, b: torch.Tensor, shift: int = SHIFT) -> torch.Tensor:
    """Distance (N,) between thumbnails a, b (N, h, w): ``1 - correlation`` at the best shift of b."""
    if a.shape[0] == 0:
        return torch.zeros(0)
    centre = _normalise(_centre(a, shift))
    crops = _normalise(_shifted_crops(b, shift))
    return (0.5 * (crops - centre).pow(2).sum(-1)).amin(0)


def _aligned_to(m: torch.Tensor, other: torch.Tensor, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The crops (N, D) of ``other`` (N, h, w) shifted to best match ``m`` (N, D: centre crops),
    and their correlation (N,)."""
    index = torch.arange(m.shape[0])
    crops = _shifted_crops(other, shift)  # S, N, D
    centred = crops - crops.mean(-1, keepdim=True)
    mc = m - m.mean(-1, keepdim=True)
    corr = (centred * mc).sum(-1) / (centred.norm(dim=-1) * mc.norm(dim=-1)).clamp_min(1e-8)
    best = corr.argmax(0)
    return crops[best, index], corr.amax(0)


def _blend_fit(mid: torch.Tensor, before: torch.Tensor, after: torch.Tensor, shift: int = SHIFT):
    """How well is ``mid`` a blend of ``before`` and ``after``, each aligned to it by a shift?

    Returns (weight_before, weight_after, residual_blend, residual_before, residual_after): the
    least-squares weights and residual energy fractions of mean-removed thumbnails.
    """
    m = _centre(mid, shift)
    m = m - m.mean(-1, keepdim=True)

    def aligned(other: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        crops, corr = _aligned_to(m, other, shift)
        return crops - crops.mean(-1, keepdim=True), 1.0 - corr.clamp(-1, 1) ** 2

    p, residual_before = aligned(before)
    q, residual_after = aligned(after)
    design = torch.stack([p, q], -1).double()  # N, D, 2
    target = m.double()
    gram = design.transpose(1, 2) @ design + 1e-9 * torch.eye(2, dtype=torch.float64)
    weights = torch.linalg.solve(gram, design.transpose(1, 2) @ target[..., None])[..., 0]
    fitted = (design @ weights[..., None])[..., 0]
    residual = (fitted - target).pow(2).sum(-1) / target.pow(2).sum(-1).clamp_min(1e-12)
    return weights[:, 0].float(), weights[:, 1].float(), residual.float(), residual_before, residual_after


def _wipe_fit(mid: torch.Tensor, before: torch.Tensor, after: torch.Tensor,
              shift: int = SHIFT) -> tuple[torch.Tensor, torch.Tensor]:
    """Is ``mid`` (N, h, w) a spatial composite of ``before`` and ``after`` split by a straight edge?

    Returns (share_after, is_wipe) per frame: the fraction of differing pixels that match
    ``after``, and whether the pixels are explained by one endpoint or the other with the two
    sides separated by a straight edge.
    """
    n, h, w = mid.shape
    c = _centre(mid, shift)
    a, b = _aligned_to(c, before, shift)[0].double(), _aligned_to(c, after, shift)[0].double()
    c = c.double()
    h, w = h - 2 * shift, w - 2 * shift
    scale = torch.sqrt(0.5 * (a.var(1) + b.var(1))).clamp_min(1e-4)[:, None]
    differs = (a - b).abs() > WIPE_DIFFERS * scale
    # gain/offset of mid against the endpoint each pixel is nearest to (twice: the first guess
    # of which is nearest is made on raw values, flicker may have shifted them)
    near_after = (c - b).abs() < (c - a).abs()
    for _ in range(2):
        composite = torch.where(near_after, b, a)
        cm, zm = c.mean(1, keepdim=True), composite.mean(1, keepdim=True)
        gain = ((c - cm) * (composite - zm)).sum(1, keepdim=True) / (composite - zm).pow(2).sum(1, keepdim=True).clamp_min(1e-9)
        gain = gain.clamp(0.5, 2.0)
        corrected = (c - cm) / gain + zm
        near_after = (corrected - b).abs() < (corrected - a).abs()
    error = torch.minimum((corrected - a).abs(), (corrected - b).abs())
    explained = error < WIPE_EXPLAINED * (a - b).abs()
    count = differs.sum(1).clamp_min(1)
    explained_share = (explained & differs).sum(1) / count
    share_after = (near_after & differs).sum(1) / count
    # a straight edge: project pixel positions on the direction that best predicts the mask,
    # threshold at the share, count the pixels classified right
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    design = torch.stack([xx.flatten() - xx.mean(), yy.flatten() - yy.mean()], 1)  # D, 2
    half_plane = torch.zeros(n, dtype=torch.float64)
    for i in range(n):
        keep = differs[i]
        if int(keep.sum()) < 0.1 * keep.numel():
            continue
        x = design[keep]
        target = near_after[i][keep].double()
        direction = torch.linalg.lstsq(x, target - target.mean()).solution
        projection = x @ direction
        threshold = torch.quantile(projection, 1.0 - float(target.mean()))
        half_plane[i] = ((projection > threshold).double() == target).double().mean()
    is_wipe = (explained_share >= WIPE_MIN_EXPLAINED) & (half_plane >= WIPE_MIN_HALF_PLANE)
    return share_after.float(), is_wipe


def damage_tolerant_distance(a: torch.Tensor, b: torch.Tensor, shift: int = 2 * SHIFT) -> float:
    """``1 - correlation`` of thumbnails a, b (h, w) at the best shift, over the pixels that are
    neither burnt nor clipped in either (flat and near black or white): a flash, a burn or a large
    blotch leaves the rest of the picture to compare. 0.0 when one is (nearly) all burnt or blank:
    nothing in it tells it apart."""
    def usable(x: torch.Tensor) -> torch.Tensor:
        local = F.avg_pool2d(x[None, None], 3, 1, 1, count_include_pad=False)[0, 0]
        local_var = F.avg_pool2d((x * x)[None, None], 3, 1, 1, count_include_pad=False)[0, 0] - local**2
        burnt = ((x > 0.9) | (x < 0.04)) & (local_var < 1e-4)
        # and its blurred rim: thumbnails average the burn's edge with the picture
        return ~(F.max_pool2d(burnt[None, None].float(), 5, 1, 2)[0, 0] > 0)

    ma, mb = usable(a), usable(b)
    centre, centre_mask = _centre(a[None], shift)[0], _centre(ma[None], shift)[0]
    crops = _shifted_crops(b[None], shift)[:, 0]  # S, D
    masks = _shifted_crops(mb[None].float(), shift)[:, 0] > 0.5
    if float(ma.float().mean()) < USABLE or float(mb.float().mean()) < USABLE:
        return 0.0  # a blank or burnt-out frame: nothing to tell it from the other picture
    both = (masks & centre_mask).double()
    count = both.sum(1)
    if float(count.max()) < USABLE * centre.numel():
        return 0.0  # the burns leave too little of the two in common
    x, y = centre.double()[None], crops.double()
    mean_x = (x * both).sum(1, keepdim=True) / count.clamp_min(1)[:, None]
    mean_y = (y * both).sum(1, keepdim=True) / count.clamp_min(1)[:, None]
    dx, dy = (x - mean_x) * both, (y - mean_y) * both
    corr = (dx * dy).sum(1) / (dx.norm(dim=1) * dy.norm(dim=1)).clamp_min(1e-9)
    corr[count < USABLE * centre.numel()] = -1.0
    return float(1.0 - corr.max())


@dataclass(frozen=True)
class Transition:
    """A shot boundary: ``frame`` is the incoming shot's first frame (a dissolve's or wipe's
    middle, a fade's black or white point); ``start_frame``-``end_frame`` (inclusive) are the
    transition's frames (a cut's are both ``frame``)."""

    type: str  # cut | dissolve | wipe | fade
    frame: int
    start_frame: int
    end_frame: int

    def to_dict(self) -> dict:
        return {"type": self.type, "start_frame": self.start_frame, "end_frame": self.end_frame}

    @property
    def length(self) -> int:
        return self.end_frame - self.start_frame + 1


class ShotDetector:
    """Streaming shot boundary detector: ``feed`` chunks of frames, then ``finish()``.

    >>> detector = ShotDetector()
    >>> for chunk in chunks: detector.feed(chunk)        # doctest: +SKIP
    >>> starts = detector.finish()                        # [0, 44, 134, 299]
    """

    def __init__(self) -> None:
        self.frame_count = 0
        self._max_lag = max(max(CUT_LAGS), 2 * max(DISSOLVE_HALF_WIDTHS))
        self._tail = torch.zeros((0, *THUMB_SIZE))
        self._contrast = array("d")  # per frame: thumbnail std / mean (gain-flicker invariant)
        self._mean = array("d")  # per frame: thumbnail mean and spread (fades)
        self._spread = array("d")
        # per frame, for the learned detector's cues (``features``): gradient anisotropy (a whip
        # pan's blur), share of burnt or clipped pixels, flicker-normalised luma histogram
        self._anisotropy = array("d")
        self._burnt = array("d")
        self._histograms: list[np.ndarray] = []
        # thumbnails of the frames around every large frame-to-frame change, for the review of
        # short segments (a few per cut: memory stays bounded by the number of changes)
        self._kept: dict[int, torch.Tensor] = {}
        self._keep_until = -1
        # distance between frame (i - lag) and frame i, stored at i
        self._lag_distance = {lag: array("d") for lag in CUT_LAGS}
        # the same for the learned frame embedding (``restoration.models.shot_embedding``): sees
        # cuts between low-contrast pictures, where damage hides them from the thumbnails
        self._embedding_tail = torch.zeros((0, 0))
        self._embedding_distance = {lag: array("d") for lag in CUT_LAGS}
        # per half-width k, stored at the middle frame m: endpoint distance, blend weights, residuals
        self._dissolve = {
            k: {key: array("d") for key in ("distance", "w_before", "w_after", "residual", "single", "wipe_share",
                                            "wipe")}
            for k in DISSOLVE_HALF_WIDTHS
        }

    def feed(self, frames: torch.Tensor) -> None:
        """Add the next frames, (T, C, H, W) in [0, 1] (or (C, H, W) for a single frame)."""
        if frames.ndim == 3:
            frames = frames[None]
        if frames.shape[0] == 0:
            return
        thumbs, larger = _luma_thumbnails(frames, (THUMB_SIZE, EMBEDDING_THUMB_SIZE))
        self._feed_embeddings(frame_embeddings(larger))
        self._feed_thumbnails(thumbs)

    def _feed_embeddings(self, embeddings: torch.Tensor) -> None:
        """Store the embedding distances of the next frames to the frames ``CUT_LAGS`` before
        (before ``_feed_thumbnails``, which counts the frames)."""
        full = torch.cat([self._embedding_tail, embeddings]) if len(self._embedding_tail) else embeddings
        _extend_lag_distances(self._embedding_distance, full, full.shape[0] - embeddings.shape[0], embedding_distance)
        self._embedding_tail = full[-max(CUT_LAGS) :].clone()

    def _feed_thumbnails(self, thumbs: torch.Tensor) -> None:
        full = torch.cat([self._tail, thumbs])
        first_new = self._tail.shape[0]  # index in ``full`` of the first new frame
        base = self.frame_count - first_new  # global frame number of full[0]
        n = full.shape[0]
        flat = thumbs.flatten(1)
        self._contrast.extend((flat.std(1) / flat.mean(1).clamp_min(1e-3)).tolist())
        self._mean.extend(flat.mean(1).tolist())
        self._spread.extend((flat - flat.median(1, keepdim=True).values).abs().median(1).values.tolist())
        self._anisotropy.extend(gradient_anisotropy(thumbs).tolist())
        self._burnt.extend(((flat > 0.9) | (flat < 0.04)).float().mean(1).tolist())
        self._histograms.append(_normalised_histograms(flat))
        _extend_lag_distances(self._lag_distance, full, first_new, shift_tolerant_distance)
        for k, store in self._dissolve.items():
            # the middle frame m is final once m + k has arrived
            mids = torch.arange(min(max(first_new - k, k), max(n - k, 0)), max(n - k, 0))
            mids = mids[mids + base >= len(store["distance"])]
            if len(mids) == 0:
                continue
            # endpoints far apart: the camera may have moved further
            shift = SHIFT if k <= 8 else 2 * SHIFT
            distance = shift_tolerant_distance(full[mids - k], full[mids + k], shift)
            # the blend fit only matters where the endpoints differ enough for a transition
            w_before, w_after, residual, single, wipe_share, wipe = (
                torch.full((len(mids),), float("nan")) for _ in range(6))
            candidate = distance >= DISSOLVE_MIN_DISTANCE
            if candidate.any():
                c = mids[candidate]
                fit = _blend_fit(full[c], full[c - k], full[c + k], shift)
                w_before[candidate], w_after[candidate], residual[candidate] = fit[0], fit[1], fit[2]
                single[candidate] = torch.minimum(fit[3], fit[4])
                share, is_wipe = _wipe_fit(full[c], full[c - k], full[c + k], shift)
                wipe_share[candidate], wipe[candidate] = share, is_wipe.float()
            # frames with m < k have no dissolve statistics: pad with NaN up to the first mid
            pad = int(mids[0]) + base - len(store["distance"])
            for key in store:
                store[key].extend([float("nan")] * pad)
            store["distance"].extend(distance.tolist())
            store["w_before"].extend(w_before.tolist())
            store["w_after"].extend(w_after.tolist())
            store["residual"].extend(residual.tolist())
            store["single"].extend(single.tolist())
            store["wipe_share"].extend(wipe_share.tolist())
            store["wipe"].extend(wipe.tolist())
        self._keep_around_changes(full, base, first_new)
        self.frame_count += thumbs.shape[0]
        self._tail = full[-self._max_lag :].clone()

    def _keep_around_changes(self, full: torch.Tensor, base: int, first_new: int) -> None:
        changes = np.asarray(self._lag_distance[1][base + first_new :])
        for offset in np.flatnonzero(np.nan_to_num(changes) >= CUT_MIN_DISTANCE).tolist():
            frame = base + first_new + offset
            for kept in range(max(frame - KEEP_AROUND, base), frame):
                self._kept.setdefault(kept, full[kept - base].clone())
            self._keep_until = max(self._keep_until, frame + KEEP_AROUND)
        for frame in range(base + first_new, min(self._keep_until, base + full.shape[0] - 1) + 1):
            self._kept.setdefault(frame, full[frame - base].clone())

    # -- decisions -----------------------------------------------------------------------

    def cut_strength(self) -> np.ndarray:
        """Per frame s: min distance between frames {s-2, s-1} and {s, s+1, s+2} (0 at s = 0)."""
        return _cut_strength(self._lag_distance, self.frame_count)

    def embedding_cut_strength(self) -> np.ndarray:
        """``cut_strength`` of the learned frame embedding's distances."""
        return _cut_strength(self._embedding_distance, self.frame_count)

    def hard_cuts(self) -> list[int]:
        strength = self.cut_strength()
        n = len(strength)
        cuts = []
        # a "shot" of one frame at either end of the clip is a damaged first or last frame (no
        # frame on its far side to show that the picture carries on), not a shot
        for s in range(2, n - 1):
            value = strength[s]
            if value < CUT_MIN_DISTANCE:
                continue
            lo, hi = max(0, s - CUT_LOCAL_WINDOW), min(n, s + CUT_LOCAL_WINDOW + 1)
            around = np.r_[strength[max(1, lo) : max(1, s - CUT_SUPPRESS)], strength[s + CUT_SUPPRESS + 1 : hi]]
            level = float(np.median(around)) if len(around) else 0.0
            if value < CUT_LOCAL_RATIO * level:
                continue
            near = strength[max(1, s - CUT_SUPPRESS) : s + CUT_SUPPRESS + 1]
            if value < near.max() or (value == near.max() and cuts and s - cuts[-1] <= CUT_SUPPRESS):
                continue
            cuts.append(s)
        return cuts

    def _stored(self, k: int, key: str) -> np.ndarray:
        return np.asarray(self._dissolve[k][key], dtype=np.float64)

    def dissolves(self) -> list[_Candidate]:
        """Dissolves found at any half-width, with their strength (endpoint distance)."""
        found: list[_Candidate] = []
        contrast = np.asarray(self._contrast)
        for k in DISSOLVE_HALF_WIDTHS:
            if not self._dissolve[k]["distance"]:
                continue
            distance, w_before, w_after = (self._stored(k, key) for key in ("distance", "w_before", "w_after"))
            residual, single = self._stored(k, "residual"), self._stored(k, "single")
            mids = np.arange(len(distance))
            ends_ok = (mids - k >= 0) & (mids + k < len(contrast))
            dip = np.full(len(distance), np.nan)
            dip[ends_ok] = contrast[mids[ends_ok]] / np.sqrt(
                contrast[mids[ends_ok] - k] * contrast[mids[ends_ok] + k]
            ).clip(1e-6)
            with np.errstate(invalid="ignore", divide="ignore"):
                share_after = w_after / (w_before + w_after)
                weight_sum = w_before + w_after
                fits = np.nan_to_num(residual < DISSOLVE_FIT_RATIO * single, nan=False).astype(bool)
                is_blend = (
                    (distance >= DISSOLVE_MIN_DISTANCE)
                    & (weight_sum > DISSOLVE_WEIGHT_SUM[0])
                    & (weight_sum < DISSOLVE_WEIGHT_SUM[1])
                    & (dip < DISSOLVE_MAX_CONTRAST_DIP)
                    & fits
                    & (w_before > 0)
                    & (w_after > 0)
                    & (share_after > 0.15)
                    & (share_after < 0.85)
                )
            is_blend = np.nan_to_num(is_blend, nan=False).astype(bool)
            for start, end in _runs(is_blend):
                if end - start + 1 < 2:  # a single blend-like frame is too weak evidence
                    continue
                # the middle: the first frame where the incoming shot weighs at least half. The
                # contrast-dip test may end the run early, so look on as long as the blend fits.
                look = np.arange(start, min(end + k, len(is_blend) - 1) + 1)
                look = look[fits[look]]
                transition, outside = _gradual("dissolve", look, share_after, k, run=(start, end))
                found.append(_Candidate(transition, float(distance[start : end + 1].max()), k, outside))
        return found

    def wipes(self) -> list[_Candidate]:
        """Wipes found at any half-width, with their strength (run length)."""
        found: list[_Candidate] = []
        for k in DISSOLVE_HALF_WIDTHS:
            if not self._dissolve[k]["distance"]:
                continue
            share, wipe = self._stored(k, "wipe_share"), self._stored(k, "wipe")
            with np.errstate(invalid="ignore"):
                is_wipe = np.nan_to_num((wipe > 0.5) & (share > 0.1) & (share < 0.9), nan=False).astype(bool)
            for start, end in _runs(is_wipe):
                # endpoints outside the wipe: the edge moves one way, the incoming picture's share
                # rises along the run; endpoints inside a long wipe: the share stays near half
                values = share[start : end + 1]
                rising = np.all(np.diff(values) > -0.15) and values[-1] - values[0] >= WIPE_MIN_RISE
                level = end - start + 1 >= 4 and np.all(np.abs(values - 0.5) < 0.2)
                if end - start + 1 < 2 or not (rising or level):
                    continue
                look = np.arange(start, end + 1)
                transition, outside = _gradual("wipe", look, share, k, run=(start, end))
                if transition.length >= WIPE_MIN_LENGTH:  # shorter: a cut under motion or damage
                    found.append(_Candidate(transition, float(end - start + 1), k, outside))
        return found

    def fades(self) -> list[Transition]:
        """Fades through black or white: a blank run with a picture ramping into it and out."""
        mean, spread = np.asarray(self._mean), np.asarray(self._spread)
        n = len(mean)
        blank = (spread < BLANK_SPREAD) & ((mean < BLANK_BLACK) | (mean > BLANK_WHITE))
        found = []
        for first, last in _runs(blank):
            if first == 0 or last == n - 1:
                continue  # a film fading in or out at its ends: no boundary
            level = float(np.median(mean[first : last + 1]))
            # how far a frame is from the blank: its contrast and its distance to the blank level
            away = spread + np.abs(mean - level)
            start = _ramp_end(away, first, -1)
            end = _ramp_end(away, last, +1)
            if (first - start) + (end - last) < FADE_MIN_RAMP:
                continue  # abrupt: a flash or a burnt frame, not a fade
            middle = (first + last + 1) // 2
            found.append(Transition("fade", middle, start, end))
        return found

    def transitions(self, method: str | None = None) -> list[Transition]:
        """Every boundary after frame 0, typed and spanned, in frame order, found by ``method``
        (``METHODS``; None: ``DEFAULT_METHOD``)."""
        method = DEFAULT_METHOD if method is None else method
        decide = {"classical": self.classical_transitions, "learned": self.learned_transitions,
                  "combined": self.combined_transitions}.get(method)
        if decide is None:
            raise ValueError(f"shot detection method must be one of {', '.join(METHODS)}, got {method!r}")
        # a segment of a few frames at either end has no frame beyond it to show whether it is a shot
        # or damage (the review of short segments compares the pictures either side)
        return [t for t in decide() if SHORT_SEGMENT < t.frame < self.frame_count - SHORT_SEGMENT]

    def _net_outputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The learned net's per-frame boundary probability, type probabilities and span."""
        from restoration.models.shot_net import WEIGHTS, load_shot_net, predict

        return predict(load_shot_net(WEIGHTS, FEATURE_NAMES), self.features())

    def learned_transitions(self) -> list[Transition]:
        """The learned detector's boundaries (``restoration.models.shot_net`` over ``features()``,
        the committed weights)."""
        if self.frame_count == 0:
            return []
        return self._net_transitions(*self._net_outputs())

    def _net_transitions(self, probability: np.ndarray, types: np.ndarray, span: np.ndarray) -> list[Transition]:
        """The net's decoded boundaries, less fades that pass through no black or white frame:
        a fade's point, within 2 frames, has a thumbnail mean below ``BLANK_BLACK`` or above
        ``BLANK_WHITE`` (on the validation reels every true fade the net found does, and none of
        the changes of mid-grey pictures it took for fades)."""
        from restoration.models.shot_net import decode

        mean = np.asarray(self._mean)

        def through_blank(frame: int) -> bool:
            near = mean[max(0, frame - 2) : frame + 3]
            return len(near) > 0 and (near.min() < BLANK_BLACK or near.max() > BLANK_WHITE)

        found = (Transition(*boundary) for boundary in decode(probability, types, span))
        return [t for t in found if t.type != "fade" or through_blank(t.frame)]

    def combined_transitions(self) -> list[Transition]:
        """The rules' boundaries, corrected by the learned net.

        The net's support for a frame is its highest boundary probability within a frame of it;
        the net is sure of its own boundary when its probability there is at least
        ``COMBINED_SURE``. Then:

        - a rules' boundary of any type the net does not support (below ``COMBINED_VETO``) is
          dropped: flashes, burns, splice bumps, runs of burnt frames the rules took for a fade,
          motion they took for a dissolve (on the validation reels every rules' boundary the net
          supports that little is false, every true one has at least 0.46);
        - a rules' cut that did not pass their cut test (below ``CUT_MIN_DISTANCE``: their review
          of short segments added it as the other end of one) goes with that other end: left
          alone, it is dropped (a flash's start where the net vetoed its end);
        - a net boundary that overlaps rules' ones the net supports less than ``COMBINED_CONFIRM``
          times its own peak replaces them, sure or not: the net disputes their placement;
        - where the net and the rules found one boundary of the same type and the net supports
          the rules' frame nearly as much as its own, the rules' frame and span, measured on the
          frames, stay (the net's heat is flat over a long transition and it misplaces some
          between smooth textures);
        - otherwise a net boundary it is sure of replaces every rules' boundary it overlaps (its
          type is the better measured: the net sees the cues of the whole neighbourhood), but for
          a cut the net found as its own just outside a sure gradual transition's span (a shot of
          a few frames after a dissolve, wipe or fade, cut to a whip pan);
        - a net boundary over no remaining rules' one is added: a dissolve, wipe or fade as the
          net decodes it (the rules miss many on damaged footage), a cut where the net is sure
          and the rules' whip-pan test keeps it (the net takes some whip pans for cuts), or where
          it is unsure but the learned frame embedding backs it (its cut strength
          ``COMBINED_BACKING`` times its local median: between low-contrast pictures under heavy
          damage the net is unsure of cuts the embedding sees) and the rules' review of short
          segments keeps it (a burn, a flash or a splice bump next to it; the whip-pan test);
        - everything else is the rules' (the net unsure either way: the rules' measurements,
          which do not depend on resembling the training material, decide);
        - a cut with another within ``SHORT_SEGMENT`` frames on both sides is dropped: it would
          split an insert into two shots of a frame or two (a picture moving fast inside a short
          insert, seen by both).

        Net boundaries are taken strongest first, so one that replaced a rules' boundary frees
        the frames for the net's weaker ones there (a cut the net is sure of inside what the rules
        took for a long fade, and a dissolve after it).
        """
        if self.frame_count == 0:
            return []
        probability, types, span = self._net_outputs()

        def support(frame: int) -> float:
            return float(probability[max(0, frame - 1) : frame + 2].max())

        rules = _without_lone_segment_ends([t for t in self.classical_transitions() if support(t.frame) >= COMBINED_VETO],
                                           self.cut_strength())
        nets = sorted(self._net_transitions(probability, types, span), key=lambda t: -probability[t.frame])
        embedding_strength = self.embedding_cut_strength()
        kept: list[Transition] = []
        replaced: set[Transition] = set()
        agreed: set[Transition] = set()  # rules' boundaries the net found as its own
        for net in nets:
            peak = float(probability[net.frame])
            overlapped = [t for t in rules if t not in replaced and _overlap(t, net)]
            if peak >= COMBINED_SURE and net.type != "cut":
                # a cut both found just outside a sure gradual transition's span is a boundary of
                # its own (a shot of a few frames after a dissolve, wipe or fade)
                overlapped = [t for t in overlapped if t not in agreed or net.start_frame <= t.frame <= net.end_frame]
            same = len(overlapped) == 1 and overlapped[0].type == net.type
            confirmed = all(support(t.frame) >= COMBINED_CONFIRM * peak for t in overlapped)
            if same and confirmed:
                agreed.add(overlapped[0])
                continue  # the same boundary, placed where the net agrees: the rules' measurement stays
            if overlapped:
                if not confirmed or peak >= COMBINED_SURE:
                    kept.append(net)
                    replaced.update(overlapped)
            elif net.type != "cut" or self._net_cut_stands(net.frame, peak, embedding_strength):
                kept.append(net)
        kept += [t for t in rules if t not in replaced]
        return _without_split_inserts(sorted(kept, key=lambda t: t.frame))

    def _net_cut_stands(self, frame: int, peak: float, embedding_strength: np.ndarray) -> bool:
        """Whether a net cut over no rules' boundary is added (``combined_transitions``): the net
        sure of it and the whip-pan test keeping it, or unsure but backed by the frame embedding
        and kept by the rules' review of short segments."""
        if peak >= COMBINED_SURE:
            return bool(self._drop_whip_pans([frame]))
        return _local_ratio(embedding_strength, frame) >= COMBINED_BACKING and bool(self._review_short_segments([frame]))

    def classical_transitions(self) -> list[Transition]:
        """Every boundary after frame 0 by the classical rules, typed and spanned, in frame order.

        Gradual transitions come first (fades, then wipes, then dissolves, each skipped where it
        overlaps one already kept); a hard cut inside a kept span (or next to it) is part of it."""
        if self.frame_count == 0:
            return []
        kept: list[Transition] = list(self.fades())
        for candidates in (self.wipes(), self.dissolves()):
            for candidate in sorted(candidates, key=lambda c: -c.strength):
                if not any(_overlap(candidate.transition, other) for other in kept):
                    kept.append(_best_span(candidate, candidates))
        kept = [t for t in kept if 2 <= t.frame <= self.frame_count - 2]
        cuts = self._review_short_segments(self.hard_cuts())
        # a hard cut inside a dissolve's or wipe's span away from its middle: the cut is sure, the
        # span a guess (motion across a cut can look like a blend or a moving edge). Fades are
        # checked more strictly and win.
        def overruled(t: Transition) -> bool:
            # a wipe's edge leaving the picture looks like a cut at the wipe's ends: those are its own
            inner = (t.start_frame + 1, t.end_frame - 1) if t.type == "wipe" else (t.start_frame, t.end_frame)
            return t.type != "fade" and any(inner[0] <= c <= inner[1] and abs(c - t.frame) > CUT_IN_GRADUAL
                                            for c in cuts)

        kept = [t for t in kept if not overruled(t)]
        for cut in cuts:
            if not any(t.start_frame - 1 <= cut <= t.end_frame + 1 for t in kept):
                kept.append(Transition("cut", cut, cut, cut))
        return sorted(kept, key=lambda t: t.frame)

    def _review_short_segments(self, cuts: list[int]) -> list[int]:
        """Cuts with the boundaries of segments of at most ``SHORT_SEGMENT`` frames settled.

        A two- or three-frame change can be an insert (a shot of its own) or damage: a flash, a
        burn, a splice bump (frames jumped ahead and back). The cut detector keeps the stronger of
        two close boundaries; here the other one is added back where the frames changed as much,
        and each boundary of a short segment stays only if the frames either side of it show
        different pictures by a damage-tolerant distance (damage leaves the picture, an insert
        does not)."""
        d1 = np.nan_to_num(np.asarray(self._lag_distance[1]))
        candidates = set(cuts)
        for cut in cuts:
            for frame in range(cut - SHORT_SEGMENT, cut + SHORT_SEGMENT + 1):
                if 1 <= frame < len(d1) and frame != cut and d1[frame] >= CUT_MIN_DISTANCE:
                    around = np.r_[d1[max(1, frame - CUT_LOCAL_WINDOW) : cut - SHORT_SEGMENT],
                                   d1[cut + SHORT_SEGMENT + 1 : frame + CUT_LOCAL_WINDOW + 1]]
                    level = float(np.median(around)) if len(around) else 0.0
                    if d1[frame] >= CUT_LOCAL_RATIO * level:
                        candidates.add(frame)
        ordered = sorted(candidates)
        kept = []
        for index, boundary in enumerate(ordered):
            near = (index > 0 and boundary - ordered[index - 1] <= SHORT_SEGMENT) or \
                (index + 1 < len(ordered) and ordered[index + 1] - boundary <= SHORT_SEGMENT)
            if not near:
                if boundary in cuts:
                    kept.append(boundary)
                continue
            left, right = self._kept.get(boundary - 1), self._kept.get(boundary)
            # the wider shift follows a splice bump's jump, the narrower one keeps more picture
            if left is None or right is None or min(
                    damage_tolerant_distance(left, right, SHIFT), damage_tolerant_distance(left, right)) > SAME_PICTURE:
                kept.append(boundary)
        return self._drop_whip_pans(kept)

    def _drop_whip_pans(self, cuts: list[int]) -> list[int]:
        """Cuts less those bounding or inside a whip pan: a run of up to ``WHIP_MAX`` frames all
        blurred along one direction (their gradient energy along it a fraction of across it, the
        same way in every frame), clearly more than the frames just outside. The pictures either
        side differ as much as at a cut, but the camera moved from one to the other."""
        def anisotropy(frame: int) -> float | None:
            # frames near a large change only (those kept): a run stops where none was kept
            return self._anisotropy[frame] if frame in self._kept else None

        def blurred_run(frame: int) -> tuple[int, int] | None:
            """The run of frames blurred the same way as ``frame`` (None if it is not blurred)."""
            level = anisotropy(frame)
            if level is None or abs(level) < WHIP_ANISOTROPY:
                return None

            def same_way(f: int) -> bool:
                value = anisotropy(f)
                return value is not None and abs(value) >= WHIP_ANISOTROPY and np.sign(value) == np.sign(level)

            first, last = frame, frame
            while first - 1 >= 0 and frame - first < WHIP_MAX and same_way(first - 1):
                first -= 1
            while last - frame < WHIP_MAX and same_way(last + 1):
                last += 1
            return first, last

        whip: set[int] = set()
        for cut in cuts:
            for frame in (cut, cut - 1):
                run = blurred_run(frame)
                if run is None or not 2 <= run[1] - run[0] + 1 <= WHIP_MAX:
                    continue
                level = float(np.median([anisotropy(f) for f in range(run[0], run[1] + 1)]))
                outside = [anisotropy(run[0] - 1), anisotropy(run[1] + 1)]
                if all(v is not None and abs(v) <= abs(level) - np.log(2.0) for v in outside):
                    whip.add(cut)
                    break
        return [c for c in cuts if c not in whip]

    def features(self) -> np.ndarray:
        """Per-frame cues (T, len(FEATURE_NAMES)) float32, finite, for the learned detector.

        Frame t's cues describe the change into frame t: distances to the frames 1-4 before, the
        cut strength and its ratio to the local median, the dissolve and wipe fits with endpoints
        k frames either side (k in ``DISSOLVE_HALF_WIDTHS``; 0 where the endpoints are too alike
        to be fitted), per-frame mean, spread, contrast, gradient anisotropy and burnt share, and
        histogram distances (of flicker-normalised luma) to the frames 1 and 2 before."""
        n = self.frame_count
        columns: dict[str, np.ndarray] = {}
        for lag in CUT_LAGS:
            columns[f"distance_lag{lag}"] = np.asarray(self._lag_distance[lag], dtype=np.float64)
        strength = self.cut_strength()
        columns["cut_strength"] = strength
        columns["cut_local_ratio"] = _log_local_ratio(strength)
        contrast = np.asarray(self._contrast, dtype=np.float64)
        for k in DISSOLVE_HALF_WIDTHS:
            # the last k frames have no fit yet: NaN (then 0) there
            stored = {key: np.r_[self._stored(k, key), np.full(n - len(self._dissolve[k][key]), np.nan)]
                      for key in self._dissolve[k]}
            with np.errstate(invalid="ignore", divide="ignore"):
                weight_sum = stored["w_before"] + stored["w_after"]
                share = stored["w_after"] / weight_sum
                fit_gain = np.log((stored["residual"] + 1e-3) / (stored["single"] + 1e-3))
            mids = np.arange(n)
            dip = np.full(n, np.nan)
            ok = (mids - k >= 0) & (mids + k < n)
            dip[ok] = np.log(contrast[mids[ok]].clip(1e-6) / np.sqrt(contrast[mids[ok] - k] * contrast[mids[ok] + k]).clip(1e-6))
            for key in ("distance", "residual", "single", "wipe_share", "wipe"):
                columns[f"{key}_k{k}"] = stored[key]
            columns[f"weight_sum_k{k}"] = weight_sum
            columns[f"share_after_k{k}"] = share
            columns[f"blend_gain_k{k}"] = fit_gain
            columns[f"contrast_dip_k{k}"] = dip
        mean = np.asarray(self._mean, dtype=np.float64)
        columns["mean"] = mean
        columns["mean_step"] = np.r_[0.0, np.diff(mean)]
        columns["spread"] = np.asarray(self._spread, dtype=np.float64)
        columns["contrast"] = contrast
        columns["anisotropy"] = np.asarray(self._anisotropy, dtype=np.float64)
        columns["burnt"] = np.asarray(self._burnt, dtype=np.float64)
        histograms = np.concatenate(self._histograms) if self._histograms else np.zeros((0, HISTOGRAM_BINS))
        for lag in (1, 2):
            d = np.zeros(n)
            if n > lag:
                d[lag:] = 0.5 * np.abs(histograms[lag:] - histograms[:-lag]).sum(1)
            columns[f"histogram_lag{lag}"] = d
        table = np.stack([columns[name] for name in FEATURE_NAMES], 1) if n else np.zeros((0, len(FEATURE_NAMES)))
        return np.nan_to_num(table, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)

    def finish(self, method: str | None = None) -> list[int]:
        """First frame of each shot (always starting with 0 when any frame was fed)."""
        if self.frame_count == 0:
            return []
        return [0, *(t.frame for t in self.transitions(method))]


HISTOGRAM_BINS = 16
FEATURE_NAMES = (
    *(f"distance_lag{lag}" for lag in CUT_LAGS), "cut_strength", "cut_local_ratio",
    *(f"{key}_k{k}" for k in DISSOLVE_HALF_WIDTHS
      for key in ("distance", "residual", "single", "wipe_share", "wipe", "weight_sum", "share_after", "blend_gain",
                  "contrast_dip")),
    "mean", "mean_step", "spread", "contrast", "anisotropy", "burnt", "histogram_lag1", "histogram_lag2",
)


def _extend_lag_distances(store: dict[int, array], full: torch.Tensor, first_new: int,
                          distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Append to ``store[lag]`` (each of ``CUT_LAGS``) the ``distance`` of every new frame of
    ``full`` (from ``first_new`` on) to the one ``lag`` frames before it; NaN where there is none."""
    n = full.shape[0]
    for lag in CUT_LAGS:
        later = torch.arange(min(max(first_new, lag), n), n)
        values = torch.full((n - first_new,), float("nan"))
        if len(later):
            values[later - first_new] = distance(full[later - lag], full[later])
        store[lag].extend(values.tolist())


def _log_local_ratio(strength: np.ndarray) -> np.ndarray:
    """Per frame: log of ``strength`` over its median within ``CUT_LOCAL_WINDOW`` frames."""
    return np.log(np.array([_local_ratio(strength, t) for t in range(len(strength))]))


def _local_ratio(strength: np.ndarray, t: int) -> float:
    """``strength`` at frame ``t`` over its median within ``CUT_LOCAL_WINDOW`` frames of it."""
    level = np.median(strength[max(1, t - CUT_LOCAL_WINDOW) : t + CUT_LOCAL_WINDOW + 1]) if len(strength) > 1 else 0.0
    return float((strength[t] + 1e-3) / (level + 1e-3))


def _normalised_histograms(flat: torch.Tensor) -> np.ndarray:
    """(N, HISTOGRAM_BINS) histograms of thumbnails (N, D) after removing their mean and scaling
    by their spread: global flicker (gain and offset) leaves them unchanged."""
    z = (flat - flat.mean(1, keepdim=True)) / flat.std(1, keepdim=True).clamp_min(FLAT_STD)
    bins = ((z.clamp(-2.999, 2.999) + 3.0) / 6.0 * HISTOGRAM_BINS).long()
    counts = torch.zeros(flat.shape[0], HISTOGRAM_BINS).scatter_add_(1, bins, torch.ones_like(z))
    return (counts / flat.shape[1]).numpy()


@dataclass(frozen=True)
class _Candidate:
    """A gradual transition measured with endpoints ``k`` frames away (``outside``: both
    endpoints outside the transition, so its length was measured, not guessed)."""

    transition: Transition
    strength: float
    k: int
    outside: bool


def _best_span(chosen: _Candidate, candidates: list[_Candidate]) -> Transition:
    """The chosen transition with the span measured by the nearest endpoints that lie outside it:
    the further the endpoints, the more camera motion spoils the fit."""
    same = [c for c in candidates if c.outside and abs(c.transition.frame - chosen.transition.frame) <= 3]
    if not same:
        return chosen.transition
    span = min(same, key=lambda c: c.k).transition
    return Transition(chosen.transition.type, chosen.transition.frame, span.start_frame, span.end_frame)


def _without_lone_segment_ends(transitions: list[Transition], strength: np.ndarray) -> list[Transition]:
    """``transitions`` (in frame order) less each cut below the cut test's ``CUT_MIN_DISTANCE``
    with no other boundary within ``SHORT_SEGMENT`` frames: the review of short segments adds such
    a cut only as the other end of a short segment, and that end is gone (a flash's first frame
    where the net vetoed the flash's end)."""
    def lone(t: Transition) -> bool:
        return not any(0 < abs(other.frame - t.frame) <= SHORT_SEGMENT for other in transitions)

    return [t for t in transitions if t.type != "cut" or strength[t.frame] >= CUT_MIN_DISTANCE or not lone(t)]


def _without_split_inserts(transitions: list[Transition]) -> list[Transition]:
    """``transitions`` (in frame order) less each cut with another cut at most ``SHORT_SEGMENT``
    frames before it and another at most as far after it: shots that short come alone (an
    insert between two longer shots), so the middle cut is a change inside the insert."""
    cuts = [t.frame for t in transitions if t.type == "cut"]

    def splits_an_insert(frame: int) -> bool:
        return any(0 < frame - other <= SHORT_SEGMENT for other in cuts) and \
            any(0 < other - frame <= SHORT_SEGMENT for other in cuts)

    return [t for t in transitions if t.type != "cut" or not splits_an_insert(t.frame)]


def _cut_strength(lag_distance: dict[int, array], n: int) -> np.ndarray:
    """Per frame s: min of the distances (``lag_distance[lag]`` at frame i: frame i - lag to frame
    i) between frames {s-2, s-1} and {s, s+1, s+2} (0 at s = 0)."""
    lag = {k: np.asarray(v, dtype=np.float64) for k, v in lag_distance.items()}
    strength = np.full(n, np.inf)
    for before in (1, 2):
        for after in (0, 1, 2):
            d = lag[before + after]
            idx = np.arange(n)
            later = idx + after
            valid = (later < n) & (idx - before >= 0)
            candidate = np.full(n, np.inf)
            candidate[valid] = d[later[valid]]
            strength = np.minimum(strength, candidate)
    strength[~np.isfinite(strength)] = 0.0
    return strength


def _runs(mask: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first, last) index of each run of True in a 1-D boolean array."""
    padded = np.r_[False, mask, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    yield from zip(edges[::2].tolist(), (edges[1::2] - 1).tolist(), strict=True)


def _overlap(a: Transition, b: Transition) -> bool:
    return a.start_frame <= b.end_frame + 1 and b.start_frame <= a.end_frame + 1


def _gradual(kind: str, frames: np.ndarray, share: np.ndarray, k: int, *,
             run: tuple[int, int]) -> tuple[Transition, bool]:
    """A gradual transition from the incoming picture's share over ``frames``, measured with
    endpoints ``k`` frames away, found as the run ``run`` of frames that fit it.

    Endpoints outside the transition (k >= half its length): the share rises by 1 / length a
    frame and the middle is the first frame with share >= 0.5. Endpoints inside it (a long
    transition): the share stays near 0.5, the run covers the transition less k at each end, and
    the middle is the run's centre. Returns the transition and whether the endpoints were
    outside it."""
    values = share[frames]
    in_run = np.arange(run[0], run[1] + 1)
    with np.errstate(invalid="ignore"):
        ramp = in_run[(share[in_run] > 0.1) & (share[in_run] < 0.9)]
    slope = np.polyfit(ramp, share[ramp], 1)[0] if len(ramp) >= 2 else 0.0
    outside = bool(slope > 1.0 / (3 * k))
    if outside:
        with np.errstate(invalid="ignore"):
            crossing = frames[values >= 0.5]
        middle = int(crossing[0]) if len(crossing) else (run[0] + run[1] + 1) // 2
        length = min(1.0 / slope, 2 * k)
    else:
        middle = (run[0] + run[1] + 1) // 2
        length = run[1] - run[0] + 1 + 2 * k
    length = int(round(min(max(length, 2), MAX_TRANSITION)))
    start = middle - length // 2
    return Transition(kind, middle, max(start, 0), max(start + length - 1, middle)), outside


def _ramp_end(away: np.ndarray, edge: int, step: int) -> int:
    """The last frame of a fade's ramp, walking from a blank run's ``edge`` frame by ``step``: the
    ramp goes on while each frame is clearly closer to the blank than the frames beyond it."""
    n = len(away)
    frame = edge
    while 0 <= frame + step < n and abs(frame + step - edge) <= MAX_TRANSITION // 2:
        following = frame + step
        beyond = away[following + step : following + 4 * step : step] if step > 0 else \
            away[max(following - 3, 0) : following][::-1]
        if len(beyond) == 0 or away[following] >= 0.8 * float(np.median(beyond)):
            break
        frame = following
    return frame


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one intra-op thread for the duration, then restore the caller's setting.

    Analysis works on thumbnails and small analysis images, where thread start-up costs more
    than it saves; on a busy machine, two spinning threads per op made it 30x slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _iter_frame_chunks(frames: Any) -> Iterable[torch.Tensor]:
    if isinstance(frames, torch.Tensor):
        if frames.ndim == 3:
            frames = frames[None]
        yield frames
        return
    for item in frames:
        if isinstance(item, tuple):  # (first_frame_number, chunk) from restoration.io.iter_chunks
            item = item[1]
        if not isinstance(item, torch.Tensor):
            raise TypeError(f"expected tensors of frames, got {type(item).__name__}")
        yield item if item.ndim == 4 else item[None]


def detect_shots(frames: Any, method: str | None = None) -> list[int]:
    """First frame of each shot in ``frames``.

    ``frames``: a tensor (T, C, H, W) in [0, 1], or an iterable of such chunks (or single
    (C, H, W) frames, or the ``(first_frame, chunk)`` pairs of ``restoration.io.iter_chunks``).
    A dissolve is reported at its middle frame. ``method``: ``METHODS`` (None: the default).
    Returns ``[]`` for no frames.
    """
    detector = ShotDetector()
    with single_threaded():
        for chunk in _iter_frame_chunks(frames):
            detector.feed(chunk)
        return detector.finish(method)


def detect_transitions(frames: Any, method: str | None = None) -> list[Transition]:
    """Every shot boundary in ``frames`` (as ``detect_shots`` takes them), typed and spanned."""
    detector = ShotDetector()
    with single_threaded():
        for chunk in _iter_frame_chunks(frames):
            detector.feed(chunk)
        return detector.transitions(method)
