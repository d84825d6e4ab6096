"""Spatial tiles inside a temporal window, sized from a memory budget, with feathered seams.

An op's working memory is a multiple of its input (flows, warped neighbours, pyramids: the film
preset needed 17.7 GB for six 4K frames), so a window of frames is cut into tiles and each op
runs tile by tile. Each tile is read with ``overlap`` extra pixels on every side: the outer half
is thrown away (an op's edge handling shows there) and the inner half is cross-faded with the
neighbour's by complementary raised-cosine weights, so no seam shows.

Ops that estimate something over the whole picture (the weave's shifts in ``stabilise``,
deflicker's brightness maps, the grain levels and flows of dust, denoise and learned_restore)
would find a different estimate in every tile; they are split into an estimate made ONCE on the
whole window (on a reduced copy where the op reduces anyway, such as the flows' working level)
and an apply run per tile with the shared estimate (``SHARED_ESTIMATES``).

Only ops that declare ``tileable`` (``OpSpec.tileable``: their tiled output equals their whole-frame
output) run in tiles; the others run on the window's whole frames, so no seam can show, and a
chain holding one is fed fewer frames at a time (``chunk_for_budget(whole_frames=True)``).

On a CPU tiles are at most ``CPU_TILE`` px a side (larger ones cost more CPU per pixel there), and
two run at once, each on one thread (``TilePlan.workers``), when each still gets ``SHARED_TILE`` px
from its share of the budget (else one at a time); they are blended in tile order, so the output is the
same as one tile at a time.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from restoration.errors import RestorationError
from restoration.ops._common import output_frames, upsampled_region
from restoration.ops.flow import SharedFlows, TileFlows
from restoration.ops.opspec import OpSpec

# A 16 GiB worker keeps a quarter for the process, the decoder and the writer.
DEFAULT_MAX_MEMORY = 12 * 2 ** 30
# Float32 copies of a tile (per frame of the window) that the heaviest op holds at once (flows,
# warped neighbours, the restoration net's aligned windows and activations); sets the tile side
# from the budget. 24 was measured on the film preset's ops at 2K; at 4K (4 frames, tiles read at
# 864 px) dust and denoise held 22-35. An op that holds more declares it (OpSpec.working_copies:
# learned_restore) and gets smaller tiles (docs/BENCHMARKS.md, issue #18).
WORKING_COPIES = 36
# Whole-window tensors held while an op runs: the source's decoded chunk (pipeline.frame_source
# keeps it), the op's input, its output, the blend's weights.
RESIDENT_COPIES = 4
# The interpreter, torch and the networks' weights, before any frame (peak RSS of a run on tiny frames).
PROCESS_BYTES = 512 * 2 ** 20
# What a window's shared flows (ops.flow.SharedFlows: consecutive flows both ways and the pairs'
# confidences) hold until the window ends, in float32 copies of each frame, when its ops run on
# whole frames. In tiles they are kept at the flows' working level (a few hundred pixels across):
# nothing to count.
SHARED_FLOW_COPIES = 3
# The tiles' least share of the budget (its eighth), whatever the frames held take: a streamed
# chain plans its frames to leave the tiles at least half of what the process leaves, but the
# shortest chunk of a long shot at 4K can hold more (deflicker's 8 frames waiting for their
# output, the chunk, its output, the source's chunk: 2.85 of 4 GiB).
TILES_FLOOR_SHARE = 8
DEFAULT_OVERLAP = 32
MIN_TILE = 64
TILE_ALIGN = 16
# The largest tile side on a CPU. Larger tiles cost more CPU per pixel there, not less: the
# classical chain on 4K frames took 16.4-16.8 CPU-s a frame in 800 px tiles, 18.2-18.3 in 1088 px
# and 22.0 in 1616 px (what a 12 GiB budget gave); the film chain 22.2, 25.1 and 27.6. At 2K, 800
# px tiles cost what whole frames cost (frames that fit the budget whole are not cut: at 854x480
# tiles cost more) (docs/BENCHMARKS.md, issue #18).
CPU_TILE = 800
# Two tiles run at once on a CPU while each gets at least this side from its share of the budget.
SHARED_TILE = 640

_UNITS = {"": 1, "b": 1, "k": 10 ** 3, "kb": 10 ** 3, "m": 10 ** 6, "mb": 10 ** 6, "g": 10 ** 9, "gb": 10 ** 9,
          "kib": 2 ** 10, "mib": 2 ** 20, "gib": 2 ** 30, "t": 10 ** 12, "tb": 10 ** 12, "tib": 2 ** 40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
MIN_MEMORY = 64 * 2 ** 20


def parse_memory_size(text: str) -> int:
    """Bytes from ``4GiB``, ``512MiB``, ``2G``, ``1.5GB`` or a plain number of bytes (at least 64 MiB)."""
    match = _SIZE.fullmatch(str(text).strip().lower())
    if match is None or match.group(2) not in _UNITS:
        raise RestorationError(f"--max-memory: expected a size such as 4GiB or 512MiB, got {text!r}")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size < MIN_MEMORY:
        raise RestorationError(f"--max-memory: {text!r} is below the minimum of 64MiB")
    return size


def largest_tile(device: torch.device) -> int | None:
    """The largest tile side worth running on ``device`` (``CPU_TILE`` on a CPU), None where
    larger is better (a GPU: one tile's kernels fill it)."""
    return CPU_TILE if device.type == "cpu" else None


def tile_workers(device: torch.device) -> int:
    """Tiles run at once on ``device``: two on a CPU with two threads or more, each tile's kernels
    on one thread (an op's small kernels, its Python between them and its reductions leave a
    second thread idle much of the time: two tiles keep both busy), one on a GPU (one tile's
    kernels fill it)."""
    return 2 if device.type == "cpu" and torch.get_num_threads() >= 2 else 1


@dataclass(frozen=True)
class TilePlan:
    """Tiles of at most ``tile`` x ``tile`` pixels (before overlap); ``tile`` 0 means the whole
    frame. ``workers`` tiles run at once (:func:`tile_workers`), each on one thread."""

    tile: int
    overlap: int = DEFAULT_OVERLAP
    workers: int = 1

    @property
    def whole_frame(self) -> bool:
        return self.tile == 0

    def covers(self, height: int, width: int) -> bool:
        """Whether frames of this size are one tile: the op runs on them whole."""
        return self.whole_frame or (height <= self.tile and width <= self.tile)

    def widened(self, reach: float) -> TilePlan:
        """Tiles whose overlap beyond the blend's band covers ``reach`` pixels (how far an op's
        result depends on its surroundings: flows and filters), read at the same size (so the
        same working memory): the tile shrinks by what the overlap grows.

        A tile's result is used up to half the cross-fade band (:func:`apply_tiled_at`: at most
        ``DEFAULT_OVERLAP``) past its core, so what lies beyond that needs to cover ``reach``:
        ``reach + DEFAULT_OVERLAP / 2`` (below ``DEFAULT_OVERLAP`` the band is the whole overlap
        and half of it still covers ``reach``). Twice the reach would read the same pixels and
        discard more of them (at 4K the tiles read 1.9x the frame's pixels instead of 1.6x)."""
        overlap = max(self.overlap, math.ceil((reach + DEFAULT_OVERLAP / 2) / TILE_ALIGN) * TILE_ALIGN)
        if self.whole_frame or overlap == self.overlap:
            return self
        return dataclasses.replace(
            self, tile=max(MIN_TILE, (self.tile - 2 * (overlap - self.overlap)) // TILE_ALIGN * TILE_ALIGN),
            overlap=overlap)


def plan_tiles(*, frames: int, channels: int, height: int, width: int, max_memory: int,
               working_copies: int | None = None, workers: int = 1, held_frames: int | None = None,
               largest: int | None = None) -> TilePlan:
    """The largest tiles of a window of ``frames`` whose working memory (``working_copies``
    float32 copies of the tile per frame: the op's own count where it declares one, else
    ``WORKING_COPIES``), with the process (``PROCESS_BYTES``) and the whole frames held meanwhile
    (``held_frames``: a streamed chain's count, :func:`held_while_running`; else
    ``RESIDENT_COPIES`` of the window), fits ``max_memory``, at most ``largest`` px a side
    (:func:`largest_tile`) when they must be cut at all; ``workers`` tiles at once
    (:func:`tile_workers`) share what is left while each still gets ``SHARED_TILE`` px, else one at a
    time (a whole frame is one tile: one worker)."""
    working_copies = WORKING_COPIES if working_copies is None else working_copies
    frame_bytes = channels * height * width * 4
    held_frames = RESIDENT_COPIES * frames if held_frames is None else held_frames
    # When the frames alone overrun the budget, the tiles still get an eighth of it: 64 px tiles
    # would spend most of their time on the overlap.
    left = max(max_memory - PROCESS_BYTES - held_frames * frame_bytes, max_memory // TILES_FLOOR_SHARE)
    # Frames that fit whole stay whole, however large: cutting them only adds the overlap and the
    # two-pass estimates (854x480: 25-55 % more CPU in 800 px tiles; 2K: the same CPU).
    if working_copies * frames * frame_bytes <= left:
        return TilePlan(0, workers=workers)

    def side(count: int) -> int:
        area = left / (count * working_copies * frames * channels * 4)
        fitting = max(MIN_TILE, (int(math.sqrt(area)) - 2 * DEFAULT_OVERLAP) // TILE_ALIGN * TILE_ALIGN)
        return fitting if largest is None else min(fitting, largest)

    # Two tiles at once, each on one thread, beat one tile on two threads while each keeps
    # ``SHARED_TILE`` px (4K classical chain at 4 GiB, 2 cores: 9.6-9.8 s a frame in two 672 px
    # tiles at once, 10.3-10.4 s in one 800 px tile at a time); smaller, the overlap's share makes
    # them cost more CPU than the second thread gives back (4K film chain: 26.3 CPU-s a frame in
    # two 544 px tiles at once, 23.1 in one 800 px tile, the same wall time).
    count = workers if largest is None or side(workers) >= SHARED_TILE else 1
    return TilePlan(side(count), workers=count)


# Fewest output frames a chunk of a streamed chain carries, whatever the budget: each op's call
# also reads its radius of context each side (a radius-2 op reads 8 frames for 4 outputs), so
# smaller chunks would spend most of the time on context (unless the window asked for is smaller).
MIN_CHUNK = 4


def _flags(flags: Sequence[bool], count: int) -> list[bool]:
    return list(flags) + [False] * (count - len(flags))


def carried_frames(radii: Sequence[int], reduced: Sequence[bool] = ()) -> list[int]:
    """Whole frames each op of a streamed chain carries between its calls: its ``2 r`` input
    frames, or ``r`` (those whose output is not made yet) for an op marked in ``reduced``, whose
    neighbours are held as reduced copies (``REDUCED_CONTEXTS``)."""
    return [radius if small else 2 * radius
            for radius, small in zip(radii, _flags(reduced, len(radii)), strict=True)]


def held_while_running(radii: Sequence[int], chunk: int, index: int, reduced: Sequence[bool] = (),
                       spilled: Sequence[bool] = (), outputs_only: Sequence[bool] = ()) -> int:
    """Whole frames a chain of ops streamed ``chunk`` frames at a time (``pipeline.runner``: each
    op keeps its own radius of context) holds while op ``index`` runs: every op's carried context
    (:func:`carried_frames`: ``2 r`` of ``radii``, ``r`` for an op marked in ``reduced``; none
    for an op marked in ``spilled``, whose carried frames wait on disk while the others run:
    ``pipeline.frame_store``), and the running op's carried frames read back when spilled, the
    chunk it was fed, its output, the chunk the source keeps decoded (``pipeline.frame_source``)
    and, for an op of radius r that makes its whole call's output before cutting its chunk out
    (neither reduced nor marked in ``outputs_only``: ``OUTPUTS_ONLY``), that output (the chunk
    and ``2 r``)."""
    reduced, spilled = _flags(reduced, len(radii)), _flags(spilled, len(radii))
    outputs_only = _flags(outputs_only, len(radii))
    carried = carried_frames(radii, reduced)
    kept = sum(frames for frames, out in zip(carried, spilled, strict=True) if not out)
    radius = radii[index]
    whole_call = 0 if reduced[index] or outputs_only[index] or radius == 0 else chunk + 2 * radius
    return kept + (carried[index] if spilled[index] else 0) + 3 * chunk + whole_call


def streamed_frames(radii: Sequence[int], chunk: int, reduced: Sequence[bool] = (),
                    spilled: Sequence[bool] = (), outputs_only: Sequence[bool] = ()) -> int:
    """Whole frames a chain of ops streamed ``chunk`` frames at a time holds at most: the most
    :func:`held_while_running` of its ops (the chunk's three copies without ops)."""
    return max((held_while_running(radii, chunk, index, reduced, spilled, outputs_only)
                for index in range(len(radii))), default=3 * chunk)


def streamed_bytes(*, radii: Sequence[int], chunk: int, channels: int, height: int, width: int,
                   whole_frames: bool, reduced: Sequence[bool] = (), spilled: Sequence[bool] = (),
                   outputs_only: Sequence[bool] = ()) -> int:
    """The memory a streamed chain's frames are planned to take (:func:`streamed_frames`), and
    with ``whole_frames`` a non-tileable op's working copies of its call's whole frames."""
    held = streamed_frames(radii, chunk, reduced, spilled, outputs_only)
    if whole_frames:
        held += (WORKING_COPIES + SHARED_FLOW_COPIES) * (chunk + 2 * max(radii, default=0))
    return held * channels * height * width * 4


def _frames_limit(max_memory: int, whole_frames: bool) -> int:
    """What a streamed chain's frames may take: half of what the process leaves of the budget
    (``PROCESS_BYTES``; the other half for the ops' tiles), all of it when an op that cannot be
    tiled runs on whole frames (counted in them)."""
    left = max(max_memory - PROCESS_BYTES, 0)
    return left if whole_frames else left // 2


def chunk_for_budget(*, window: int, radii: Sequence[int], channels: int, height: int, width: int,
                     max_memory: int, whole_frames: bool = False, reduced: Sequence[bool] = (),
                     spilled: Sequence[bool] = (), outputs_only: Sequence[bool] = ()) -> int:
    """Frames fed to a streamed chain at a time: the most, up to ``window``, whose frames take at
    most half of what the process leaves of the budget (:func:`_frames_limit`) or, with ``whole_frames`` (an op
    that cannot be tiled runs on whole frames), that fit the budget with that op's working
    copies. Never fewer than ``MIN_CHUNK`` (or the window when smaller): when even that does not
    fit, the budget is exceeded (the spatial tiles still bound the ops' working memory) rather
    than the run spending most of its time on context."""
    limit = _frames_limit(max_memory, whole_frames)
    fits = [chunk for chunk in range(window, 0, -1)
            if streamed_bytes(radii=radii, chunk=chunk, channels=channels, height=height, width=width,
                              whole_frames=whole_frames, reduced=reduced, spilled=spilled,
                              outputs_only=outputs_only) <= limit]
    return max(fits[0] if fits else 1, min(window, MIN_CHUNK))


@dataclass(frozen=True)
class StreamPlan:
    """Frames fed to a streamed chain at a time, and which ops' carried frames wait on disk."""

    chunk: int
    spilled: tuple[bool, ...]


def stream_plan(*, window: int, radii: Sequence[int], channels: int, height: int, width: int, max_memory: int,
                whole_frames: bool = False, reduced: Sequence[bool] = (), outputs_only: Sequence[bool] = ()
                ) -> StreamPlan:
    """:func:`chunk_for_budget`, with no frames spilled when the chain's fit at its chunk;
    otherwise the carried frames of the ops that carry the most spill (``pipeline.frame_store``:
    written once, read back at the op's next call), as few ops as make them fit, or all of them
    when even that does not (a long 4K shot under the film preset: 37 frames, 5.3 GiB, against
    2 GiB). Each spilled frame costs a write and a read per call of its op."""
    reduced = _flags(reduced, len(radii))
    carried = carried_frames(radii, reduced)
    spilled = [False] * len(radii)
    order = sorted((index for index, frames in enumerate(carried) if frames), key=lambda index: -carried[index])
    for index in [None, *order]:
        if index is not None:
            spilled[index] = True
        sizes = dict(radii=radii, channels=channels, height=height, width=width, whole_frames=whole_frames,
                     reduced=reduced, spilled=spilled, outputs_only=outputs_only)
        chunk = chunk_for_budget(window=window, max_memory=max_memory, **sizes)
        if streamed_bytes(chunk=chunk, **sizes) <= _frames_limit(max_memory, whole_frames):
            break
    return StreamPlan(chunk, tuple(spilled))


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    count = max(1, math.ceil(length / tile))
    # Even tiles, no sliver at the end, starting on a multiple of TILE_ALIGN: with an overlap
    # that is one too, every tile is read from such a pixel, where the whole frame's 2x2 and 16 px
    # grids (the restoration net's folds and strides, the brightness match's cells) fall too.
    edges = sorted({round(i * length / count / TILE_ALIGN) * TILE_ALIGN for i in range(count)} | {length})
    return list(zip(edges[:-1], edges[1:], strict=True))


def _tiles(height: int, width: int, plan: TilePlan) -> list[tuple[int, int, int, int, int, int, int, int]]:
    """(top, bottom, left, right) read and (y0, y1, x0, x1) kept of each tile, row by row."""
    tiles = []
    for y0, y1 in _spans(height, plan.tile):
        top, bottom = max(0, y0 - plan.overlap), min(height, y1 + plan.overlap)
        for x0, x1 in _spans(width, plan.tile):
            tiles.append((top, bottom, max(0, x0 - plan.overlap), min(width, x1 + plan.overlap), y0, y1, x0, x1))
    return tiles


def _ramp(length: int, lo_pad: int, hi_pad: int, band: int, *, device, dtype) -> torch.Tensor:
    """1-D weights over a tile read with ``lo_pad``/``hi_pad`` extra pixels: a raised cosine over
    ``band`` pixels centred on the core's edge (complementary to the neighbour's), 0 outside it, 1 inside."""
    weight = torch.ones(length, device=device, dtype=dtype)
    ramp = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(band, device=device, dtype=dtype) + 0.5) / band)
    if lo_pad:
        start = lo_pad - band // 2
        weight[:start] = 0.0
        weight[start:start + band] = ramp
    if hi_pad:
        stop = length - hi_pad + band // 2
        weight[stop:] = 0.0
        weight[stop - band:stop] = ramp.flip(0)
    return weight


def apply_tiled(function: Callable[[torch.Tensor], torch.Tensor], frames: torch.Tensor, plan: TilePlan
                ) -> torch.Tensor:
    """``function`` (T, C, h, w) -> (T, C, h, w) run tile by tile over ``frames`` and blended."""
    return apply_tiled_at(lambda tile, top, left: function(tile), frames, plan)


def apply_tiled_at(function: Callable[[torch.Tensor, int, int], torch.Tensor], frames: torch.Tensor,
                   plan: TilePlan) -> torch.Tensor:
    """As :func:`apply_tiled`, for a function also told where its tile's top-left pixel lies; it
    may return fewer frames than its tile has (the outputs of some of them: the others context)."""
    _, _, height, width = frames.shape
    if plan.covers(height, width):
        return function(frames, 0, 0)
    # A widened overlap (TilePlan.widened) discards more; the cross-fade keeps its width.
    band = min(plan.overlap, DEFAULT_OVERLAP)
    out: torch.Tensor | None = None  # as many frames as the function returns
    total = torch.zeros(1, 1, height, width, device=frames.device, dtype=frames.dtype)
    # Blended in tile order whatever order the workers finish in: the same sums as one by one.
    for (top, bottom, left, right, y0, y1, x0, x1), result in _tile_results(function, frames, plan):
        rows = _ramp(bottom - top, y0 - top, bottom - y1, band, device=frames.device, dtype=frames.dtype)
        cols = _ramp(right - left, x0 - left, right - x1, band, device=frames.device, dtype=frames.dtype)
        weight = rows[:, None] * cols[None, :]
        region = (slice(None), slice(None), slice(top, bottom), slice(left, right))
        if out is None:
            out = frames.new_zeros((result.shape[0], *frames.shape[1:]))
        total[region] += weight
        # A running weighted mean, moved towards each tile's result by its share of the weight:
        # where tiles agree the result stays bit for bit what they gave (a sum of weighted
        # results divided by the weights' sum is off by a rounding, which can tip a later op's threshold).
        share = weight / total[region].clamp_min(torch.finfo(frames.dtype).tiny)
        out[region] += (result - out[region]) * share
    return out


def _tile_results(function: Callable[[torch.Tensor, int, int], torch.Tensor], frames: torch.Tensor,
                  plan: TilePlan) -> Iterator[tuple[tuple[int, ...], torch.Tensor]]:
    """Each tile of ``frames`` (:func:`_tiles`' tuple) with ``function(tile, top, left)``, in tile
    order; ``plan.workers`` tiles computed at once, at most one more waiting to be taken."""
    tiles = _tiles(*frames.shape[-2:], plan)
    grad = torch.is_grad_enabled()  # per thread: the workers run as the caller (the runner's no_grad)

    def run(tile: tuple[int, ...]) -> torch.Tensor:
        top, bottom, left, right = tile[:4]
        with torch.set_grad_enabled(grad):
            return function(frames[:, :, top:bottom, left:right], top, left)

    if plan.workers == 1:
        for tile in tiles:
            yield tile, run(tile)
        return
    with _one_thread_each(plan.workers) as pool:
        pending = deque()
        for tile in tiles:
            pending.append((tile, pool.submit(run, tile)))
            if len(pending) > plan.workers:  # the next tile starts while this one is taken
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


@contextmanager
def _one_thread_each(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of ``workers`` threads whose torch kernels run on one thread each (the kernels
    release the GIL, so the tiles run side by side). torch's thread count is the process's, read
    by each thread when it first runs a parallel kernel: it is 1 while the pool lives (the
    calling thread's kernels too) and is given back after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="tile")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)


def tile_medians(measure: Callable[[torch.Tensor, int, int], torch.Tensor], frames: torch.Tensor, plan: TilePlan
                 ) -> torch.Tensor:
    """Medians (...) of ``measure(tile, top, left)`` (..., 1, h, w) over the whole frames, as
    ``ops._common.sampled_median`` takes them on whole frames (every third row and column from
    the frame's origin), gathered from each tile's own pixels (its overlap left out): a per-frame
    statistic of the whole picture, measured tile by tile."""
    _, _, height, width = frames.shape
    step = 3 if min(height, width) >= 24 else 1  # sampled_median's subsample
    samples = []
    for (top, _, left, _, y0, y1, x0, x1), values in _tile_results(measure, frames, plan):
        first_row, first_column = -(-y0 // step) * step, -(-x0 // step) * step
        samples.append(values[..., first_row - top:y1 - top:step, first_column - left:x1 - left:step].flatten(-3))
    return torch.cat(samples, dim=-1).median(dim=-1).values


# -- ops with a whole-picture estimate: estimate once, apply per tile ------------------------------

def _stabilise_tiled(frames: torch.Tensor, plan: TilePlan, radius: int, strength: float, max_shift: float
                     ) -> torch.Tensor:
    return _stabilise_from_reduced(frames, _stabilise_reduced(frames, plan), 0, plan, radius, strength, max_shift)


def _stabilise_reduced(frames: torch.Tensor, plan: TilePlan, **params) -> torch.Tensor:
    """The grey copy of each frame stabilise's shifts are measured on (``ops.stabilise.reduced_grey``)."""
    from restoration.ops.stabilise import reduced_grey

    return reduced_grey(frames)


def _stabilise_from_reduced(frames: torch.Tensor, reduced: torch.Tensor, first: int, plan: TilePlan, radius: int,
                            strength: float, max_shift: float) -> torch.Tensor:
    """Stabilise of ``frames``, whose grey copies are ``reduced[first:first + len(frames)]``, the
    others their neighbours' (as many as the radius needs, or the shot's edge)."""
    from restoration.ops.stabilise import _shift_frames, apply_correction, reduction_factor, weave_of_reduced

    if strength == 0:
        return frames.clone()
    shifts, moved = weave_of_reduced(reduced, reduction_factor(frames), frames.dtype, radius=radius,
                                     strength=strength, max_shift=max_shift)
    own = slice(first, first + frames.shape[0])
    if plan.covers(*frames.shape[-2:]):
        return apply_correction(frames, shifts[own], moved[own])  # ops.stabilise.stabilise's
    if not bool(moved.any()):
        return frames.clone()
    # The tile must see the pixels its content comes from: widen the overlap past the shift
    # (and the bicubic kernel), so only the frame's own edges are reflected. The largest shift
    # of the neighbours too: the overlap of a call over the whole window.
    reach = int(math.ceil(float(shifts[moved].abs().max()))) + 4
    wide = dataclasses.replace(plan, overlap=max(plan.overlap, 2 * reach))
    shifts, moved = shifts[own], moved[own]
    if bool(moved.all()):  # no copies of the window for the frames that stay
        return apply_tiled(lambda tile: _shift_frames(tile, shifts), frames, wide)
    out = frames.clone()
    if bool(moved.any()):
        chosen = shifts[moved]
        out[moved] = apply_tiled(lambda tile: _shift_frames(tile, chosen), frames[moved], wide)
    return out


def _deflicker_tiled(frames: torch.Tensor, plan: TilePlan, radius: int, strength: float, contrast: bool
                     ) -> torch.Tensor:
    return _deflicker_from_reduced(frames, _deflicker_reduced(frames, plan), 0, plan, radius, strength, contrast)


def _deflicker_reduced(frames: torch.Tensor, plan: TilePlan, **params) -> torch.Tensor:
    """The copy of each frame deflicker's maps are measured on (``ops.deflicker.reduced_luma``),
    in tiles from an average of the frames first: brightness_maps averages the luma down by this
    factor anyway, and luma is linear, so the maps of the reduced copy are the same maps, from a
    fraction of the memory."""
    from restoration.ops.deflicker import reduced_luma, reduction_factor

    if plan.covers(*frames.shape[-2:]):
        return reduced_luma(frames)
    factor = reduction_factor(frames)
    return reduced_luma(F.avg_pool2d(frames, factor, ceil_mode=True) if factor > 1 else frames)


def _deflicker_from_reduced(frames: torch.Tensor, reduced: torch.Tensor, first: int, plan: TilePlan, radius: int,
                            strength: float, contrast: bool) -> torch.Tensor:
    """Deflicker of ``frames``, whose reduced copies are ``reduced[first:first + len(frames)]``,
    the others their neighbours' (as many as the radius needs, or the shot's edge)."""
    from restoration.ops.deflicker import apply_maps, maps_of_reduced

    gain, offset = maps_of_reduced(reduced, radius=radius, contrast=contrast)
    gain, offset = gain[first:first + frames.shape[0]], offset[first:first + frames.shape[0]]
    if plan.covers(*frames.shape[-2:]):
        return apply_maps(frames, gain, offset, strength=strength)  # ops.deflicker.deflicker's
    _, _, height, width = frames.shape
    maps = torch.cat([1.0 + strength * (gain - 1.0), strength * offset], dim=1)

    def apply(tile: torch.Tensor, top: int, left: int) -> torch.Tensor:
        local = upsampled_region(maps, (height, width), top, left, *tile.shape[-2:])
        return (tile * local[:, :1] + local[:, 1:]).clamp(0.0, 1.0)

    return _apply_positioned(apply, frames, plan)


def _apply_positioned(apply: Callable[[torch.Tensor, int, int], torch.Tensor], frames: torch.Tensor,
                      plan: TilePlan) -> torch.Tensor:
    """A pointwise apply needs no overlap: tiles side by side, each told where it sits."""
    if plan.whole_frame:
        return apply(frames, 0, 0)
    _, _, height, width = frames.shape
    out = torch.empty_like(frames)
    for y0, y1 in _spans(height, plan.tile):
        for x0, x1 in _spans(width, plan.tile):
            out[:, :, y0:y1, x0:x1] = apply(frames[:, :, y0:y1, x0:x1], y0, x0)
    return out


def _deblock_tiled(frames: torch.Tensor, plan: TilePlan, strength: float, block_size: int) -> torch.Tensor:
    from restoration.ops.deblock import _blocking_level, _deblock_columns, find_grid_phase

    if strength == 0:
        return frames.clone()
    # The grid's phase and the blocking level set the filter's thresholds: measured on whole
    # frames (one luma column profile each), shared by the tiles, the phase moved to each tile's origin.
    phases = find_grid_phase(frames, block_size)

    def one_direction(images: torch.Tensor, phase: torch.Tensor, tiles: TilePlan) -> torch.Tensor:
        levels = torch.stack([_blocking_level(image, int(p), block_size) for image, p in zip(images, phase, strict=True)])
        return apply_tiled_at(
            lambda tile, top, left: _deblock_columns(tile, (phase - left) % block_size, block_size, strength, levels),
            images, tiles)

    out = one_direction(frames, phases[:, 0], plan)
    out = one_direction(out.transpose(-1, -2), phases[:, 1], plan).transpose(-1, -2)
    return out.clamp(0.0, 1.0).contiguous()


def _scratch_tiled(frames: torch.Tensor, plan: TilePlan, sensitivity: float, temporal: bool) -> torch.Tensor:
    from restoration.ops.scratch import fill_scratches, remove_scratches, signed_scratches

    if temporal:  # the temporal fill warps whole neighbours along the flow: whole frames
        return remove_scratches(frames, sensitivity=sensitivity, temporal=True)
    # A scratch is a column judged against the whole row's profile and its neighbours: detected
    # once on whole frames (luma only), filled per tile along rows (lines are far narrower than
    # the overlap's discarded half).
    signed = signed_scratches(frames, sensitivity=sensitivity)
    if not bool(signed.any()):
        return frames.clone()
    return apply_tiled_at(
        lambda tile, top, left: fill_scratches(
            tile, signed[..., top:top + tile.shape[-2], left:left + tile.shape[-1]]),
        frames, plan)


def _white_balance_tiled(frames: torch.Tensor, plan: TilePlan, **params) -> torch.Tensor:
    from restoration.ops.colour import apply_gains, white_balance_gains

    if frames.shape[1] == 1:
        return frames.clone()
    gains = white_balance_gains(frames, **params)  # each whole frame's colour, applied pointwise
    return _apply_positioned(lambda tile, top, left: apply_gains(tile, gains), frames, plan)


# -- temporal ops: flows and per-frame statistics of the whole frames, applied per tile --------------
#
# The flows are estimated once on the whole frames at their working level (a few hundred pixels
# across: ops.flow's work_side) and enlarged at each tile's pixels (ops.flow.TileFlows), so a tile
# aligns its neighbours with the whole picture's motion; the per-frame medians (grain levels,
# misalignment tolerance) are gathered from every tile's own pixels first (tile_medians), then the
# tiles are run with them. The overlap is widened past how far a result reaches: the motion over
# the op's radius plus its filters (the brightness match's 16 px cells, dust's search around a
# spike and its inpainting, the restoration net's receptive field).

# Pixels, beyond the motion, that a result depends on.
DUST_REACH = 48
DENOISE_REACH = 40
LEARNED_RESTORE_REACH = 40
# Consecutive flows estimated per batch on whole frames (each needs its two frames' luma pyramids).
FLOW_STEPS_PER_BATCH = 4


def _whole_frame_flows(shared: SharedFlows, frames: torch.Tensor, **flow_options) -> float:
    """Estimate every consecutive flow of the whole ``frames`` into ``shared`` (kept at their
    working level, for TileFlows); the longest motion between two frames, in pixels."""
    table = shared.chained(frames, coarse=True, **flow_options)
    steps = frames.shape[0] - 1
    for first in range(0, steps, FLOW_STEPS_PER_BATCH):
        table.prepare(range(first, min(first + FLOW_STEPS_PER_BATCH, steps)))
    return table.largest_motion()


def _per_frame_noise(frames: torch.Tensor, outputs: range) -> torch.Tensor:
    """ops.denoise.estimate_noise of the whole ``outputs`` frames, one at a time (it is per
    frame): (T,) numbered as ``frames``, NaN at their context (the ops read only their outputs')."""
    from restoration.ops.denoise import estimate_noise

    return _at_outputs(torch.cat([estimate_noise(frames[index][None]) for index in outputs]), outputs, frames.shape[0])


def _at_outputs(values: torch.Tensor, outputs: range, length: int) -> torch.Tensor:
    """Per-frame ``values`` (..., len(outputs)) of the frames ``outputs`` in a (..., length)
    tensor numbered as the op's frames, NaN at the others (context frames no output reads)."""
    placed = values.new_full((*values.shape[:-1], length), float("nan"))
    placed[..., outputs.start:outputs.stop] = values
    return placed


def _dust_tiled(frames: torch.Tensor, plan: TilePlan, sensitivity: float, grow: int,
                flows: SharedFlows | None = None, outputs: range | None = None) -> torch.Tensor:
    from restoration.ops.dust import grain_differences, grain_level, remove_dust

    outputs = output_frames(frames, outputs)
    if frames.shape[0] < 2:
        return frames[outputs.start:outputs.stop].clone()  # one frame has no neighbour to tell dirt from picture
    shared = flows or SharedFlows()
    # Neighbours are one step away, two at the clip's ends.
    plan = plan.widened(DUST_REACH + 2 * _whole_frame_flows(shared, frames))
    grain = _at_outputs(grain_level(tile_medians(
        lambda tile, top, left: grain_differences(tile, TileFlows(shared, frames, top, left), outputs), frames, plan)),
        outputs, frames.shape[0])
    return apply_tiled_at(
        lambda tile, top, left: remove_dust(tile, sensitivity=sensitivity, grow=grow,
                                            flows=TileFlows(shared, frames, top, left), grain=grain, outputs=outputs),
        frames, plan)


def _denoise_tiled(frames: torch.Tensor, plan: TilePlan, radius: int, strength: float, spatial: float,
                   outputs: range | None = None) -> torch.Tensor:
    from restoration.ops.denoise import FLOW_SMOOTH, denoise, misalignment_differences, misalignment_levels, self_pairs

    outputs = output_frames(frames, outputs)
    shared = SharedFlows()
    plan = plan.widened(DENOISE_REACH + radius * _whole_frame_flows(shared, frames, smooth=FLOW_SMOOTH))
    noise = _per_frame_noise(frames, outputs).clamp_min(1e-3)
    medians = tile_medians(
        lambda tile, top, left: misalignment_differences(tile, radius=radius, noise=noise,
                                                         flows=TileFlows(shared, frames, top, left), outputs=outputs),
        frames, plan)  # (2, K, outputs): blurred and raw differences of each output frame's K neighbours
    levels = misalignment_levels(medians, self_pairs(frames.shape[0], radius, outputs.start, outputs.stop))
    spread, grain = (_at_outputs(level, outputs, frames.shape[0]) for level in levels)
    return apply_tiled_at(
        lambda tile, top, left: denoise(tile, radius=radius, strength=strength, spatial=spatial,
                                        flows=TileFlows(shared, frames, top, left), levels=(noise, spread, grain),
                                        outputs=outputs),
        frames, plan)


def _learned_restore_tiled(frames: torch.Tensor, plan: TilePlan, flows: SharedFlows | None = None,
                           outputs: range | None = None, unconfirmed_limit: float = 0.0) -> torch.Tensor:
    from restoration.models.learned_ops import RADIUS, restore_frames

    outputs = output_frames(frames, outputs)
    shared = flows or SharedFlows()
    plan = plan.widened(LEARNED_RESTORE_REACH + RADIUS * _whole_frame_flows(shared, frames))
    noise = _per_frame_noise(frames.float(), outputs)
    return apply_tiled_at(
        lambda tile, top, left: restore_frames(tile, flows=TileFlows(shared, frames, top, left), noise=noise,
                                               outputs=outputs, unconfirmed_limit=unconfirmed_limit)[0],
        frames, plan)


SHARED_ESTIMATES: dict[str, Callable[..., torch.Tensor]] = {
    "stabilise": _stabilise_tiled,
    "deflicker": _deflicker_tiled,
    "deblock": _deblock_tiled,
    "scratch": _scratch_tiled,
    "white_balance": _white_balance_tiled,
    "dust": _dust_tiled,
    "denoise": _denoise_tiled,
    "learned_restore": _learned_restore_tiled,
}


# Ops whose neighbours count only through a reduced copy of each frame: ``(reduce, apply)``,
# ``reduce(frames, plan, **params)`` the copies (per frame) and ``apply(frames, reduced, first,
# plan, **params)`` the op's output for ``frames`` given the copies of them and their neighbours
# (``reduced[first:first + len(frames)]`` theirs), equal to the op's on whole windows (whole
# frames or tiles by ``plan``). A streamed pipeline holds such an op's neighbours as those copies,
# whole frames only until their own output is made.
REDUCED_CONTEXTS: dict[str, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]] = {
    "stabilise": (_stabilise_reduced, _stabilise_from_reduced),
    "deflicker": (_deflicker_reduced, _deflicker_from_reduced),
}


# Ops whose function and shared-estimate form take ``outputs=`` (a range of the window's frames)
# and compute only those frames' outputs: a streamed call's context frames are inputs only (their outputs were
# made by the call before, or will be by the next), and computing theirs too doubled a long
# shot's work per frame at chunks of 4 (a radius-2 op's call: 8 frames for 4 outputs).
OUTPUTS_ONLY = frozenset({"dust", "denoise", "learned_restore"})


def run_op_tiled(op: OpSpec, frames: torch.Tensor, params: dict[str, Any], plan: TilePlan,
                 flows: SharedFlows | None = None, outputs: range | None = None) -> torch.Tensor:
    """One op over a window: whole frames unless it is ``tileable`` and the frames are larger
    than a tile; in tiles its shared-estimate form where it has one, else tile by tile.
    ``flows``: the window's shared motion, for an op that ``shares_flows``. ``outputs``: the
    frames whose output is returned (all by default), computed alone where the op's form can
    (``OUTPUTS_ONLY``), else cut from the whole window's output (in memory of their own)."""
    given = {"flows": flows} if op.shares_flows and flows is not None else {}
    if outputs is not None and op.name in OUTPUTS_ONLY:
        given["outputs"] = outputs
    if not op.tileable or plan.covers(*frames.shape[-2:]):
        out = op.function(frames, **params, **given)
    else:
        shared = SHARED_ESTIMATES.get(op.name)
        if shared is not None:
            out = shared(frames, plan, **params, **given)
        else:
            out = apply_tiled(lambda tile: op.function(tile, **params), frames, plan)
    if outputs is None or len(outputs) == out.shape[0]:
        return out
    return out[outputs.start:outputs.stop].clone()
