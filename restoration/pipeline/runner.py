"""Running a validated spec over a clip: shot plans, ops streamed with their own temporal context, retime.

How each op's context keeps every output frame exact is described in ``restoration.pipeline``'s
docstring.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from restoration.errors import RestorationError, SpecError
from restoration.op_registry import interpolation_refine
from restoration.ops.flow import SharedFlows
from restoration.pipeline.frame_source import FrameSource
from restoration.pipeline.frame_store import FrameStore, SpilledFrames
from restoration.pipeline.spec import (
    CLEAN_OPS,
    PipelineSpec,
    Step,
    load_spec,
    spatial_scale,
    validate_steps,
)
from restoration.pipeline.tiling import (
    DEFAULT_MAX_MEMORY,
    OUTPUTS_ONLY,
    REDUCED_CONTEXTS,
    StreamPlan,
    TilePlan,
    held_while_running,
    largest_tile,
    plan_tiles,
    run_op_tiled,
    stream_plan,
    streamed_bytes,
    tile_workers,
)

logger = logging.getLogger(__name__)

SEED = 0  # ops that draw random numbers (none should, but learned ones might) start here

Progress = Callable[[int, int], None]


@dataclass
class ShotPlan:
    """The frames [start, end] (inclusive) of one shot and the steps run on it."""

    start_frame: int
    end_frame: int
    steps: tuple[Step, ...]
    # the frames of a dissolve, wipe or fade: restored one by one, so that no temporal op mixes
    # the two shots (or the blend with the clean frames either side)
    frame_by_frame: bool = False

    def to_dict(self) -> dict[str, Any]:
        plan = {
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "ops": [step.to_dict() for step in self.steps],
        }
        if self.frame_by_frame:
            plan["frame_by_frame"] = True
        return plan


@dataclass
class PipelineResult:
    """What ``run_pipeline`` did. ``frames`` holds the output (on the CPU) when no path was given."""

    frames: torch.Tensor | None
    frame_count: int
    fps: float | None
    width: int
    height: int
    channels: int
    shots: list[ShotPlan] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame_count": self.frame_count,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "channels": self.channels,
            "shots": [shot.to_dict() for shot in self.shots],
            "seconds": self.seconds,
        }


def resolve_device(device: str | torch.device) -> torch.device:
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise RestorationError(f"device: unknown device {device!r} (use cpu or cuda)") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RestorationError("device: CUDA was asked for but is not available on this machine")
    if resolved.type not in ("cpu", "cuda"):
        raise RestorationError(f"device: unsupported device {device!r} (use cpu or cuda)")
    return resolved


def run_pipeline(
    source: str | os.PathLike | torch.Tensor,
    spec: str | os.PathLike | Mapping[str, Any] | PipelineSpec,
    *,
    output: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    window: int = 32,
    progress: Progress | None = None,
    fps: float | None = None,
    codec: str | None = None,
    shots: Sequence[Mapping[str, Any]] | None = None,
    bit_depth: int = 8,
    transitions: Sequence[tuple[int, int]] | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
    tile: int | None = None,
) -> PipelineResult:
    """Run ``spec`` over ``source`` (a video path, an image sequence or a (T, C, H, W) tensor).

    With ``output`` the result is written there (via ``io.open_writer``: a video file, or an image
    sequence when it is a printf pattern; a temporary name, renamed on success, nothing left on
    failure); without, the frames are returned in the result.
    ``fps`` is the source's frame rate (read from the file for a path; needed for a tensor only
    when retiming or writing). ``shots`` overrides the analysis for an analysis-driven spec (the
    analysis' own ``shots`` list). ``progress(done, total)`` counts input frames. ``bit_depth``
    (8 or 16) is a tensor source's, which the output keeps; a path's is read from the file.
    ``transitions``: inclusive ``(start, end)`` frames of dissolves, wipes or fades in the source,
    restored frame by frame (an analysis-driven spec also takes them from the shots'
    ``transition_in``). ``window``: at most this many frames are fed to the ops at a time.
    ``max_memory`` (bytes) bounds the frames held (fewer fed at a time) and sets the spatial
    tiles the ops run in (``pipeline.tiling``); ``tile`` forces a tile side in pixels (0: whole
    frames), for tests.
    """
    pipeline = load_spec(spec)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise SpecError(f"window: expected a positive integer, got {window!r}")
    if tile is not None and (not isinstance(tile, int) or isinstance(tile, bool) or tile < 0):
        raise SpecError(f"tile: expected a whole number of pixels, got {tile!r}")
    if not isinstance(max_memory, int) or isinstance(max_memory, bool) or max_memory < 1:
        raise SpecError(f"max_memory: expected a positive number of bytes, got {max_memory!r}")
    target = resolve_device(device)
    workers, largest = tile_workers(target), largest_tile(target)
    # A file is decoded frame by frame: the chain asks for a chunk at a time, which may be far
    # fewer frames than the window (4K, long context), and nothing more is held.
    frames = FrameSource.open(source, fps=fps, chunk_size=1, bit_depth=bit_depth)
    if pipeline.retime_fps is not None and not frames.fps:
        raise SpecError("retime: the source's frame rate is unknown (pass fps=)")
    out_fps = pipeline.retime_fps or frames.fps
    writer = None
    if output is not None:
        if not out_fps:
            raise SpecError("fps: the source's frame rate is unknown (pass fps=)")
        from restoration.io import open_writer

        # Built before any work: a bad output name or codec fails now, not after the analysis.
        # A pattern writes a sequence (the source's numbers, depth and, unless retimed, DPX headers).
        writer = open_writer(output, fps=out_fps, codec=codec, bit_depth=frames.bit_depth,
                             source=None if isinstance(source, torch.Tensor) else source,
                             carry_headers=pipeline.retime_fps is None)
    started = time.perf_counter()
    collected: list[torch.Tensor] = []
    written = 0

    def emit(chunk: torch.Tensor) -> None:
        nonlocal written
        written += chunk.shape[0]
        if writer is not None:
            writer.write(chunk)
        else:
            collected.append(chunk)

    with _deterministic(target):
        if writer is not None:
            with writer:  # on any error the partial file is removed
                plans = _plan_shots(pipeline, frames, source, shots, transitions)
                out_scale = _output_scale(plans)
                budget = _Budget(_left_by_writer(max_memory, writer, frames, out_scale), tile, workers, largest)
                _run_plans(plans, frames, pipeline, target, window, budget, progress, emit)
        else:
            plans = _plan_shots(pipeline, frames, source, shots, transitions)
            out_scale = _output_scale(plans)
            budget = _Budget(max_memory, tile, workers, largest)
            _run_plans(plans, frames, pipeline, target, window, budget, progress, emit)

    result_frames = torch.cat(collected) if collected else None
    return PipelineResult(
        frames=result_frames,
        frame_count=written,
        fps=out_fps,
        width=frames.width * out_scale,
        height=frames.height * out_scale,
        channels=frames.channels,
        shots=plans,
        seconds=time.perf_counter() - started,
    )


def _output_scale(plans: list[ShotPlan]) -> int:
    scales = {spatial_scale(plan.steps) for plan in plans}
    if len(scales) > 1:
        raise SpecError("ops: the shots' pipelines scale the frames differently; one clip needs one size")
    return scales.pop() if scales else 1


def _left_by_writer(max_memory: int, writer: Any, frames: FrameSource, scale: int) -> int:
    """The budget the ops plan their chunks and tiles with: ``max_memory`` less what the output's
    encoder keeps for itself (``io.encoder_reserve_bytes``: FFV1's packet buffer, resident from
    the first write on, beside the frames the chain holds), but never under a quarter of it."""
    from restoration.io import VideoWriter, encoder_reserve_bytes

    if not isinstance(writer, VideoWriter):
        return max_memory  # an image sequence's encoders hold one frame's file at a time
    reserve = encoder_reserve_bytes(writer.codec, channels=frames.channels, height=frames.height * scale,
                                    width=frames.width * scale, bit_depth=writer.bit_depth)
    return max(max_memory - reserve, max_memory // 4)


@dataclass(frozen=True)
class _Chain:
    """What the planner needs of a shot's steps: each op's radius, whether its neighbours are
    held as reduced copies (``tiling.REDUCED_CONTEXTS``) and whether it computes its chunk's
    outputs alone (``tiling.OUTPUTS_ONLY``)."""

    radii: tuple[int, ...]
    reduced: tuple[bool, ...]
    outputs_only: tuple[bool, ...]

    @classmethod
    def of(cls, steps: Sequence[Step]) -> _Chain:
        return cls(tuple(step.op.context_radius(step.params) for step in steps),
                   tuple(step.op.name in REDUCED_CONTEXTS for step in steps),
                   tuple(step.op.name in OUTPUTS_ONLY for step in steps))


@dataclass(frozen=True)
class _Budget:
    max_memory: int
    tile: int | None = None  # forced tile side; None: from the budget
    workers: int = 1  # tiles run at once (pipeline.tiling.tile_workers)
    largest: int | None = None  # the largest tile side (pipeline.tiling.largest_tile)

    def stream(self, window: int, chain: _Chain, frames: FrameSource, whole_frames: bool) -> StreamPlan:
        return stream_plan(window=window, radii=chain.radii, reduced=chain.reduced, outputs_only=chain.outputs_only,
                           channels=frames.channels, height=frames.height, width=frames.width,
                           max_memory=self.max_memory, whole_frames=whole_frames)

    def warn_if_over(self, chain: _Chain, stream: StreamPlan, frames: FrameSource, whole_frames: bool) -> None:
        """Say so when even the shortest chunk overruns the budget: the run goes on regardless."""
        chunk = stream.chunk
        radii = chain.radii
        need = streamed_bytes(radii=radii, reduced=chain.reduced, outputs_only=chain.outputs_only,
                              spilled=stream.spilled, chunk=chunk, channels=frames.channels, height=frames.height,
                              width=frames.width, whole_frames=whole_frames)
        if need > self.max_memory:
            why = " (an op that cannot be tiled runs on whole frames)" if whole_frames else ""
            logger.warning(
                "max_memory %.0f MiB is too small: ops of context %s fed %d frames of %dx%d at a time need"
                " about %.0f MiB%s; running anyway", self.max_memory / 2 ** 20, "+".join(map(str, radii)) or "0",
                chunk, frames.width, frames.height, need / 2 ** 20, why)

    def tiles(self, chain: _Chain, stream: StreamPlan, index: int, length: int, frames: FrameSource,
              step: Step) -> TilePlan:
        """The tiles step ``index``'s op runs in: sized from the copies it declares holding, for
        its own calls (a chunk and its context, at most the shot), from what the process and the
        whole frames held meanwhile (``tiling.held_while_running``; on a shot fed in one chunk:
        the source's, the op's input and its output) leave of the budget."""
        if self.tile is not None:
            return TilePlan(self.tile, workers=self.workers)
        chunk = stream.chunk
        if length <= chunk:
            window, held = length, 3 * length
        else:
            window = chunk + (0 if chain.reduced[index] else 2 * chain.radii[index])
            held = held_while_running(chain.radii, chunk, index, chain.reduced, stream.spilled, chain.outputs_only)
        return plan_tiles(frames=window, channels=frames.channels, height=frames.height, width=frames.width,
                          max_memory=self.max_memory, working_copies=step.op.working_copies, workers=self.workers,
                          held_frames=held, largest=self.largest)


def _run_plans(plans, frames, pipeline, device, window, budget, progress, emit) -> None:
    total = frames.frame_count
    done = 0
    if progress is not None:
        progress(0, total)  # the work has started (after any analysis)
    for plan in plans:
        processed = _process_shot(plan, frames, device, window, budget)
        if pipeline.retime_fps is not None:
            processed = _retime_shot(processed, plan, frames.fps, pipeline.retime_fps, pipeline.retime_method)
        for last_input_frame, chunk in processed:
            emit(chunk)
            done = last_input_frame + 1
            if progress is not None:
                progress(done, total)
    if progress is not None and done != total:
        progress(total, total)


def _process_shot(
    plan: ShotPlan, frames: FrameSource, device: torch.device, window: int, budget: _Budget
) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield ``(last input frame number, exact output frames)`` chunk by chunk over one shot.

    The ops run as a chain of streamed stages (:func:`_streamed`): each holds only its own radius
    of context and passes on each output frame as soon as its context has arrived, so a long shot
    holds about twice the sum of the radii (not a window plus that sum each side for every op,
    as when each window carried the whole chain's context and computed it again)."""
    if plan.frame_by_frame:
        for frame in range(plan.start_frame, plan.end_frame + 1):
            yield from _process_shot(ShotPlan(frame, frame, plan.steps), frames, device, window, budget)
        return
    first, stop = plan.start_frame, plan.end_frame + 1
    chain = _Chain.of(plan.steps)
    radii = chain.radii
    # An op that cannot be tiled holds whole frames: fewer of them fit the budget. The chain's
    # other ops then run whole too: tiling them would save nothing, and their float rounding at
    # the seams (1e-7) can tip a later op's threshold (dust's speck test) into a visible difference.
    whole_frames = any(not step.op.tileable for step in plan.steps)
    stream = budget.stream(window, chain, frames, whole_frames)
    budget.warn_if_over(chain, stream, frames, whole_frames)
    chunk = stream.chunk
    # Carried frames that do not fit wait in nameless scratch files, all closed when the shot
    # ends or fails (pipeline.frame_store).
    with FrameStore() as store:
        chunks = _source_chunks(frames, first, stop, chunk, device)
        # The motion shared by the temporal ops (ops.flow.SharedFlows), numbered from the shot's first
        # frame: one table for the ops between two that move the picture (stabilise).
        segment_flows = [SharedFlows()]
        for index, (step, radius) in enumerate(zip(plan.steps, radii, strict=True)):
            sharing_later = [later for later in plan.steps[index + 1:_segment_end(plan.steps, index)]
                             if later.op.shares_flows]
            tiles = TilePlan(0) if whole_frames else budget.tiles(chain, stream, index, stop - first, frames, step)
            stage = _Stage(step, radius, chunk, tiles, segment_flows[-1],
                           last_to_share=step.op.shares_flows and not sharing_later,
                           reduce=REDUCED_CONTEXTS[step.op.name][0] if chain.reduced[index] else None,
                           store=store if stream.spilled[index] else None)
            chunks = _streamed(chunks, stage, first, stop)
            if step.op.moves_picture:
                segment_flows.append(SharedFlows())
        done = first
        for out in chunks:
            done += out.shape[0]
            # Without ops the chunk is the source's own frames (a view of a tensor source, or of the
            # buffer the next chunk reads: clamped out of place so those frames are never changed);
            # the ops' own output is clamped in place.
            yield done - 1, (out.clamp(0.0, 1.0) if frames.holds(out) else out.clamp_(0.0, 1.0)).cpu()
            del out  # not held while the chain makes the next chunk


def _segment_end(steps: Sequence[Step], index: int) -> int:
    """The index after the last step that sees the flows step ``index`` sees (the next op that
    moves the picture, included: it runs on the same picture)."""
    for later in range(index, len(steps)):
        if steps[later].op.moves_picture:
            return later + 1
    return len(steps)


def _source_chunks(frames: FrameSource, first: int, stop: int, chunk: int, device: torch.device
                   ) -> Iterator[torch.Tensor]:
    for start in range(first, stop, chunk):
        yield frames.get(start, min(start + chunk, stop)).to(device)


@dataclass
class _Stage:
    """One op of a streamed chain: its radius of context, the most outputs of a call (``chunk``),
    its tiles, the flows it shares, whether no later op shares them (it then drops the estimates
    it has gone past), for an op whose neighbours count only through reduced copies
    (``tiling.REDUCED_CONTEXTS``) how it makes them, and where its carried frames wait between
    its calls when they spill (``tiling.stream_plan``)."""

    step: Step
    radius: int
    chunk: int
    tiles: TilePlan
    flows: SharedFlows
    last_to_share: bool
    reduce: Callable[..., torch.Tensor] | None = None
    store: FrameStore | None = None


def _streamed(upstream: Iterator[torch.Tensor], stage: _Stage, first: int, stop: int) -> Iterator[torch.Tensor]:
    """``stage``'s op over the exact frames ``upstream`` yields in order (frames ``first`` to
    ``stop`` of a shot, in chunks), yielding its own exact output frames in order.

    Each call gets the frames whose outputs have become exact (their ``radius`` frames beyond
    have arrived, or the shot's edge) with ``radius`` frames of context each side, and keeps
    only the ``2 * radius`` input frames the next outputs still need: an op's output at a frame
    depends on the frames within its radius only, so it is what a run over the whole shot gives.
    An op with reduced neighbours keeps those as their reduced copies, and whole frames only
    until their own output is made (``radius`` of them). With a ``store`` the frames kept wait
    there whenever the other ops run (before an output is passed on, and before more frames are
    asked for).
    """
    held: torch.Tensor | None = None  # whole input frames [held_start, received)
    parked: SpilledFrames | None = None  # or those frames in the store, between calls
    small: torch.Tensor | None = None  # a reduced op's copies of frames [small_start, received)
    held_start = small_start = done = received = first
    for arrived in upstream:
        if stage.reduce is not None:
            copies = stage.reduce(arrived, stage.tiles, **stage.step.params)
            small = copies if small is None else torch.cat([small, copies])
        received += arrived.shape[0]
        if parked is not None:  # read back straight after the frames kept: no second copy of them
            held, parked = parked.load(then=arrived), None
        else:
            held = arrived if held is None else torch.cat([held, arrived])
        del arrived  # in ``held`` now: not held twice while the op runs
        while True:
            # Outputs are exact before ``ready``; at most a chunk of them a call, so that the ends of
            # a shot (every op's held-back frames at once) take no more than the rest of it.
            ready = min(stop if received == stop else received - stage.radius, done + stage.chunk)
            if ready <= done:
                break
            if parked is not None:
                held, parked = parked.load(), None
            lo = max(first, done - stage.radius)
            hi = min(stop, ready + stage.radius)
            if stage.reduce is not None:
                result = _applied(stage, held[done - held_start:ready - held_start],
                                  neighbours=(small[lo - small_start:hi - small_start], done - lo))
                keep = ready  # whole frames only for the outputs still to make
                if ready == stop:
                    small = None
                else:
                    keep_small = max(first, ready - stage.radius)
                    small, small_start = small[keep_small - small_start:].clone(), keep_small
            else:
                result = _call(stage, held[lo - held_start:hi - held_start], lo - first, done - lo, ready - lo)
                keep = max(first, ready - stage.radius)
            # Only the frames the next outputs need, copied, so the frames dropped are freed
            # before the later ops run.
            if ready == stop:
                held = None
            elif keep > held_start:
                # Spilled below straight from the slice (written out, then all of it freed): no copy.
                held = held[keep - held_start:] if stage.store is not None else held[keep - held_start:].clone()
                held_start = keep
            done = ready
            if stage.store is not None and held is not None:
                parked, held = stage.store.spill(held), None  # the later ops run before this one resumes
            # Passed on without a reference left here: this generator stays suspended while the
            # later ops run on these frames, and a local name would keep every op's output alive
            # until the chunk had gone through the whole chain (a window of frames per op).
            outgoing = [result]
            del result
            yield outgoing.pop()
        if stage.store is not None and held is not None:
            parked, held = stage.store.spill(held), None


def _call(stage: _Stage, inputs: torch.Tensor, origin: int, start: int, stop: int) -> torch.Tensor:
    """The stage's op over ``inputs`` (numbered ``origin`` from the shot's first frame for the
    shared flows): its output frames ``[start, stop)`` of them, in memory of their own (the
    others are context: computed by the calls before and after)."""
    stage.flows.origin = origin
    out = _applied(stage, inputs, outputs=range(start, stop))
    if out.untyped_storage().data_ptr() == inputs.untyped_storage().data_ptr():
        out = out.clone()  # an op that returned its input: the frames passed on are changed later
    if stage.last_to_share:
        stage.flows.forget_before(origin + stop - stage.radius)
    return out


def _applied(stage: _Stage, frames: torch.Tensor, neighbours: tuple[torch.Tensor, int] | None = None,
             outputs: range | None = None) -> torch.Tensor:
    """The stage's op over ``frames`` (:func:`_apply`), then the heap trimmed of what its tiles freed."""
    with torch.no_grad():
        out = _apply(stage.step, frames, stage.tiles, stage.flows, neighbours, outputs)
    if not stage.tiles.covers(*frames.shape[-2:]):  # on frames that fit whole the trim only costs (~5 % CPU)
        release_freed_memory()
    return out


def _heap_trimmer() -> Callable[[], object]:
    """glibc's ``malloc_trim(0)``, or nothing where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return lambda pad=0: 0


_malloc_trim = _heap_trimmer()


def release_freed_memory() -> None:
    """Give the heap's free pages back to the system. glibc keeps what an op's tiles freed (the
    process grew from 1.2 to 3.4 GiB between the film chain's ops at 4K, live data 1.8 GB), and
    the next op's and the writer's peaks came on top of it (docs/BENCHMARKS.md, issue #18)."""
    _malloc_trim(0)


def _apply(step: Step, frames: torch.Tensor, tiles: TilePlan, flows: SharedFlows,
           neighbours: tuple[torch.Tensor, int] | None = None, outputs: range | None = None) -> torch.Tensor:
    """``step``'s op over ``frames``: the output of the frames ``outputs`` (all by default;
    ``tiling.run_op_tiled``); ``neighbours``, for an op in ``REDUCED_CONTEXTS``: the reduced
    copies of the frames and their neighbours, and where the frames' own start."""
    scale = step.op.output_scale(step.params)
    if neighbours is None:
        # upscales are not tileable: whole frames
        out = run_op_tiled(step.op, frames, step.params, tiles, flows, outputs)
    else:
        out = REDUCED_CONTEXTS[step.op.name][1](frames, *neighbours, tiles, **step.params)
    count = frames.shape[0] if outputs is None else len(outputs)
    expected = (count, frames.shape[1], frames.shape[2] * scale, frames.shape[3] * scale)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise RestorationError(f"op {step.op.name!r} returned {got}, expected {expected}")
    return out


def _retime_shot(
    processed: Iterator[tuple[int, torch.Tensor]], plan: ShotPlan, src_fps: float, dst_fps: float, method: str
) -> Iterator[tuple[int, torch.Tensor]]:
    """Interpolate the output times of one shot window by window, carrying one frame across."""
    from restoration.ops.interpolate import interpolate_frames, retime_times

    refine = interpolation_refine(method)
    length = plan.end_frame - plan.start_frame + 1
    times = torch.as_tensor(retime_times(length, src_fps, dst_fps), dtype=torch.float64)
    carry: torch.Tensor | None = None
    base = 0  # shot-local frame number of the first processed frame of the current window
    for last_input_frame, chunk in processed:
        span = chunk if carry is None else torch.cat([carry, chunk])
        span_start = base - (0 if carry is None else 1)
        span_end = base + chunk.shape[0] - 1
        # Each window owns the times in (previous window's last frame, its own last frame].
        low_ok = times >= span_start if carry is None else times > span_start
        wanted = times[low_ok & (times <= span_end)]
        if wanted.numel():
            local = wanted - span_start
            yield last_input_frame, interpolate_frames(span, local, refine=refine).clamp_(0.0, 1.0)
        else:
            yield last_input_frame, span[:0]
        carry = chunk[-1:]
        base += chunk.shape[0]


def _plan_shots(
    pipeline: PipelineSpec,
    frames: FrameSource,
    source: Any,
    shots: Sequence[Mapping[str, Any]] | None,
    transitions: Sequence[tuple[int, int]] | None = None,
) -> list[ShotPlan]:
    last = frames.frame_count - 1
    given = _checked_transitions(transitions, last)
    if not pipeline.analysis_driven:
        return _split_at_transitions([ShotPlan(0, last, pipeline.steps)], given)
    if shots is None:
        from restoration.analysis import analyse

        report = analyse(source, fps=frames.fps)
        shots = report.get("shots") or []
    plans = []
    for index, shot in enumerate(shots):
        start, end = int(shot["start_frame"]), int(shot["end_frame"])
        recommended = shot.get("recommended_pipeline")
        if recommended is None:
            steps = validate_steps(CLEAN_OPS)  # no recommendation: the everyday repairs
        else:
            steps = validate_steps(recommended, where=f"shots[{index}].recommended_pipeline")
        plans.append(ShotPlan(start, end, steps))
    expected_start = 0
    for plan in plans:
        if plan.start_frame != expected_start or plan.end_frame < plan.start_frame:
            raise SpecError(f"shots: frames {expected_start}..{last} are not covered by consecutive shots")
        expected_start = plan.end_frame + 1
    if expected_start != last + 1:
        raise SpecError(f"shots: frames {expected_start}..{last} are not covered by consecutive shots")
    spans = [_transition_span(shot, index) for index, shot in enumerate(shots)]
    return _split_at_transitions(plans, given + [span for span in spans if span is not None])


def _checked_transitions(transitions: Sequence[tuple[int, int]] | None, last: int) -> list[tuple[int, int]]:
    checked = []
    for index, span in enumerate(transitions or ()):
        ok = isinstance(span, (tuple, list)) and len(span) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in span)
        if not ok or not 0 <= span[0] <= span[1] <= last:
            raise SpecError(f"transitions[{index}]: expected (start, end) frames within 0..{last}, got {span!r}")
        checked.append((span[0], span[1]))
    return checked


GRADUAL_TRANSITIONS = ("dissolve", "wipe", "fade")


def _transition_span(shot: Mapping[str, Any], index: int) -> tuple[int, int] | None:
    """The inclusive frames of a shot's gradual ``transition_in`` (None for a cut or none)."""
    transition = shot.get("transition_in")
    if transition is None:
        return None
    where = f"shots[{index}].transition_in"
    if not isinstance(transition, Mapping) or transition.get("type") not in ("cut", *GRADUAL_TRANSITIONS):
        raise SpecError(f"{where}: expected {{\"type\": cut|dissolve|wipe|fade, \"start_frame\", \"end_frame\"}}")
    start, end = transition.get("start_frame"), transition.get("end_frame")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not 0 <= start <= end:
        raise SpecError(f"{where}: start_frame and end_frame must be frame numbers, start <= end")
    return None if transition["type"] == "cut" else (start, end)


def _split_at_transitions(plans: list[ShotPlan], spans: list[tuple[int, int]]) -> list[ShotPlan]:
    """Plans with the frames of gradual transitions cut out as frame-by-frame parts of the shots
    they belong to (a dissolve's first half ends the outgoing shot, its second half starts the
    incoming one): temporal ops then never reach across the transition's edges."""
    if not spans:
        return plans
    inside = set()
    for start, end in spans:
        inside.update(range(start, end + 1))
    split = []
    for plan in plans:
        run_start = plan.start_frame
        for frame in range(plan.start_frame, plan.end_frame + 1):
            last = frame == plan.end_frame
            if last or (frame in inside) != (frame + 1 in inside):
                split.append(ShotPlan(run_start, frame, plan.steps, frame_by_frame=frame in inside))
                run_start = frame + 1
    return split


class _deterministic:
    """Seeded, deterministic torch for the run; the caller's RNG and settings come back after."""

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        cuda_devices = [self.device.index or 0] if self.device.type == "cuda" else []
        self._rng = torch.random.fork_rng(devices=cuda_devices)
        self._rng.__enter__()
        torch.manual_seed(SEED)
        self._was = torch.are_deterministic_algorithms_enabled()
        self._warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
        # warn_only: an op without a deterministic kernel still runs (and says so) rather than failing.
        torch.use_deterministic_algorithms(True, warn_only=True)
        # Deterministic mode also fills every new tensor with NaN before use (a guard against
        # reading uninitialised memory, which no op does): 5-10 % of the film preset's CPU time.
        self._filled = torch.utils.deterministic.fill_uninitialized_memory
        torch.utils.deterministic.fill_uninitialized_memory = False
        return self

    def __exit__(self, *exc_info):
        torch.utils.deterministic.fill_uninitialized_memory = self._filled
        torch.use_deterministic_algorithms(self._was, warn_only=self._warn_only)
        return self._rng.__exit__(*exc_info)
