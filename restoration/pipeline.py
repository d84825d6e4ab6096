"""JSON pipeline specs, presets, and running a pipeline of ops over a clip in temporal windows.

A spec is a JSON object::

    {"ops": [{"op": "denoise", "params": {"strength": 0.5}}, {"op": "dust"}],
     "retime": {"fps": 24}}

- ``ops`` (required): a list of steps, run in order; an empty list is allowed (the clip is only
  re-encoded, or only retimed). Each step is an object with ``op`` (a registered op name) and
  optionally ``params`` (an object; missing parameters take the op's defaults). Instead of a
  list, ``"ops": "analysis"`` asks ``restoration.analysis`` for each shot's recommended
  pipeline and runs it per shot (the ``film`` preset).
- ``retime`` (optional, may be null): ``{"fps": <number > 0>, "method": "classical"|"learned"}``
  converts the frame rate with ``ops.interpolate`` after the ops (``method`` defaults to
  classical: see ``op_registry.INTERPOLATE_METHODS``).

Nothing else is accepted; a bad spec raises ``SpecError`` whose message starts with the path of
the bad field (``ops[2].op: unknown op 'x'``, ``ops[0].params.radius: ...``, ``retime.fps: ...``).

``run_pipeline`` streams the clip in windows of ``window`` output frames. Each window is read
with ``R`` extra frames on each side, ``R`` being the sum of the ops' context radii (their
``temporal_radius``, or the radius their parameters ask for: ``OpSpec.context_radius``), so
every output frame is exactly what running each op over the whole clip (or shot) would give,
while memory stays bounded by ``window + 2R`` frames. The context shrinks along the chain: op
``k`` needs only the radii of ops ``k..n-1`` beyond the window, so after each op the frames no
later op needs are dropped (with denoise, dust, scratch and deflicker the first op sees
``window + 18`` frames, the last ``window + 8``). Shots found by analysis are processed
independently: no op sees across a cut.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from restoration.errors import MediaError, RestorationError, SpecError
from restoration.op_registry import INTERPOLATE_METHODS, get_op, interpolation_refine
from restoration.ops.opspec import OpSpec
from restoration.progress import ProgressBar

ANALYSIS_OPS = "analysis"
SPEC_KEYS = ("ops", "retime")
STEP_KEYS = ("op", "params")
RETIME_KEYS = ("fps", "method")
MAX_FPS = 1000.0
DEFAULT_PRESET = "film"
SEED = 0  # ops that draw random numbers (none should, but learned ones might) start here

# The fixed preset: the four everyday film repairs with their defaults. Used as is by
# `--preset clean`, and by the film preset for a shot the analysis gave no recommendation for.
CLEAN_OPS = [{"op": "denoise"}, {"op": "dust"}, {"op": "scratch"}, {"op": "deflicker"}]
PRESETS: dict[str, dict[str, Any]] = {
    "film": {"ops": ANALYSIS_OPS},
    "clean": {"ops": CLEAN_OPS},
}

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# Specs


@dataclass(frozen=True)
class Step:
    """One validated op step: the registry entry and its full parameter set (defaults filled in)."""

    op: OpSpec
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op.name, "params": dict(self.params)}


@dataclass(frozen=True)
class PipelineSpec:
    """A validated spec. ``steps`` is None when the ops come from analysis, per shot."""

    steps: tuple[Step, ...] | None
    retime_fps: float | None = None
    retime_method: str = "classical"

    @property
    def analysis_driven(self) -> bool:
        return self.steps is None

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "ops": ANALYSIS_OPS if self.steps is None else [step.to_dict() for step in self.steps]
        }
        if self.retime_fps is not None:
            spec["retime"] = {"fps": self.retime_fps}
            if self.retime_method != "classical":
                spec["retime"]["method"] = self.retime_method
        return spec


def temporal_radius(steps: Sequence[Step]) -> int:
    """Frames of context needed on each side so a window's output equals the whole clip's."""
    return context_radii(steps)[0]


def context_radii(steps: Sequence[Step]) -> list[int]:
    """Context needed beyond a window on each side, before each op: ``[C_0, ..., C_n]``.

    ``C_k`` is the sum of the radii of ops ``k..n-1`` (``C_0`` the whole chain's, ``C_n`` 0): op
    ``k`` needs ``C_k`` frames of input context so that its output is exact on the ``C_{k+1}``
    frames the rest of the chain needs.
    """
    radii = [0]
    for step in reversed(steps):
        radii.append(radii[-1] + step.op.context_radius(step.params))
    return radii[::-1]


def spatial_scale(steps: Sequence[Step]) -> int:
    return math.prod(step.op.output_scale(step.params) for step in steps)


def validate_steps(ops: Any, where: str = "ops") -> tuple[Step, ...]:
    """Validate a list of ``{"op", "params"}`` steps; errors name the field (``ops[1].op: ...``)."""
    if not isinstance(ops, list):
        raise SpecError(f"{where}: expected a list of steps or {ANALYSIS_OPS!r}, got {_json_type(ops)}")
    steps = []
    for index, entry in enumerate(ops):
        here = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            raise SpecError(f"{here}: expected an object with 'op' and 'params', got {_json_type(entry)}")
        unknown = sorted(set(entry) - set(STEP_KEYS))
        if unknown:
            raise SpecError(f"{here}: unknown key {unknown[0]!r} (known: {', '.join(STEP_KEYS)})")
        if "op" not in entry:
            raise SpecError(f"{here}.op: missing")
        name = entry["op"]
        if not isinstance(name, str):
            raise SpecError(f"{here}.op: expected a string, got {_json_type(name)}")
        try:
            op = get_op(name)
        except SpecError as exc:
            raise SpecError(f"{here}.op: {exc}") from None
        params = entry.get("params")
        if params is not None and not isinstance(params, Mapping):
            raise SpecError(f"{here}.params: expected an object, got {_json_type(params)}")
        try:
            validated = op.validate_params(params)
        except SpecError as exc:
            # The registry names the field after the op ("ops.denoise.params.x"); name it by position.
            message = str(exc)
            prefix = f"ops.{op.name}."
            raise SpecError(
                f"{here}.{message[len(prefix):]}" if message.startswith(prefix) else f"{here}.params: {message}"
            ) from None
        steps.append(Step(op=op, params=validated))
    return tuple(steps)


def validate_spec(spec: Any) -> PipelineSpec:
    if isinstance(spec, PipelineSpec):
        return spec
    if not isinstance(spec, Mapping):
        raise SpecError(f"spec: expected a JSON object, got {_json_type(spec)}")
    _reject_unknown_keys(spec, SPEC_KEYS, prefix="")
    if "ops" not in spec:
        raise SpecError("ops: missing (a list of steps, possibly empty, or 'analysis')")
    ops = spec["ops"]
    steps = None if ops == ANALYSIS_OPS else validate_steps(ops)
    retime_fps, retime_method = _validate_retime(spec.get("retime"))
    return PipelineSpec(steps=steps, retime_fps=retime_fps, retime_method=retime_method)


def _reject_unknown_keys(mapping: Mapping, known: Sequence[str], *, prefix: str) -> None:
    unknown = sorted(set(mapping) - set(known))
    if unknown:
        raise SpecError(f"{prefix}{unknown[0]}: unknown key (known: {', '.join(known)})")


def _validate_retime(retime: Any) -> tuple[float | None, str]:
    if retime is None:
        return None, "classical"
    if not isinstance(retime, Mapping):
        raise SpecError(f"retime: expected an object like {{\"fps\": 24}}, got {_json_type(retime)}")
    _reject_unknown_keys(retime, RETIME_KEYS, prefix="retime.")
    if "fps" not in retime:
        raise SpecError("retime.fps: missing")
    fps = retime["fps"]
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps):
        raise SpecError(f"retime.fps: expected a number, got {fps!r}")
    if not 0 < fps <= MAX_FPS:
        raise SpecError(f"retime.fps: {fps} is outside (0, {MAX_FPS:g}]")
    method = retime.get("method", "classical")
    if method not in INTERPOLATE_METHODS:
        raise SpecError(f"retime.method: expected one of {', '.join(INTERPOLATE_METHODS)}, got {method!r}")
    return float(fps), method


def load_spec(spec: str | os.PathLike | Mapping[str, Any] | PipelineSpec) -> PipelineSpec:
    """A spec from a dict, a preset name, or a JSON file's path, validated."""
    if isinstance(spec, (PipelineSpec, Mapping)):
        return validate_spec(spec)
    if isinstance(spec, str) and spec in PRESETS:
        return validate_spec(PRESETS[spec])
    if not isinstance(spec, (str, os.PathLike)):
        return validate_spec(spec)  # names the wrong type
    path = Path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the pipeline spec ({_os_reason(exc)})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return validate_spec(data)


def preset_spec(name: str) -> PipelineSpec:
    if name not in PRESETS:
        raise SpecError(f"preset: unknown preset {name!r} (known: {', '.join(sorted(PRESETS))})")
    return validate_spec(PRESETS[name])


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class ShotPlan:
    """The frames [start, end] (inclusive) of one shot and the steps run on it."""

    start_frame: int
    end_frame: int
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "ops": [step.to_dict() for step in self.steps],
        }


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
) -> PipelineResult:
    """Run ``spec`` over ``source`` (a video path or a (T, C, H, W) tensor).

    With ``output`` the result is written there (via ``io.VideoWriter``: a temporary name, renamed
    on success, nothing left on failure); without, the frames are returned in the result.
    ``fps`` is the source's frame rate (read from the file for a path; needed for a tensor only
    when retiming or writing). ``shots`` overrides the analysis for an analysis-driven spec (the
    analysis' own ``shots`` list). ``progress(done, total)`` counts input frames.
    """
    pipeline = load_spec(spec)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise SpecError(f"window: expected a positive integer, got {window!r}")
    target = resolve_device(device)
    frames = _FrameSource.open(source, fps=fps, chunk_size=window)
    if pipeline.retime_fps is not None and not frames.fps:
        raise SpecError("retime: the source's frame rate is unknown (pass fps=)")
    out_fps = pipeline.retime_fps or frames.fps
    writer = None
    if output is not None:
        if not out_fps:
            raise SpecError("fps: the source's frame rate is unknown (pass fps=)")
        from restoration.io import VideoWriter

        # Built before any work: a bad output name or codec fails now, not after the analysis.
        writer = VideoWriter(output, fps=out_fps, codec=codec, bit_depth=frames.bit_depth)
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
                plans = _plan_shots(pipeline, frames, source, shots)
                out_scale = _output_scale(plans)
                _run_plans(plans, frames, pipeline, target, window, progress, emit)
        else:
            plans = _plan_shots(pipeline, frames, source, shots)
            out_scale = _output_scale(plans)
            _run_plans(plans, frames, pipeline, target, window, progress, emit)

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


def _run_plans(plans, frames, pipeline, device, window, progress, emit) -> None:
    total = frames.frame_count
    done = 0
    if progress is not None:
        progress(0, total)  # the work has started (after any analysis)
    for plan in plans:
        processed = _process_shot(plan, frames, device, window)
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
    plan: ShotPlan, frames: _FrameSource, device: torch.device, window: int
) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield ``(last input frame number, exact output frames)`` window by window over one shot."""
    contexts = context_radii(plan.steps)
    first, stop = plan.start_frame, plan.end_frame + 1
    for start in range(first, stop, window):
        end = min(start + window, stop)
        lo, hi = max(first, start - contexts[0]), min(stop, end + contexts[0])
        chunk = frames.get(lo, hi).to(device)
        with torch.no_grad():
            for step, context in zip(plan.steps, contexts[1:], strict=True):
                chunk = _apply(step, chunk)
                # An op's output is exact except within its radius of a cut-off (not a shot)
                # edge, and the next ops need only `context` frames beyond the window: keep just
                # those. At a shot edge nothing is cut, so every op meets the edge as it would
                # over the whole shot.
                keep_lo, keep_hi = max(first, start - context), min(stop, end + context)
                chunk = chunk[keep_lo - lo : keep_hi - lo]
                lo = keep_lo
        # Without ops the context is 0 and the chunk is the window itself (a view of a tensor
        # source: clamp out of place so the caller's frames are never changed).
        yield end - 1, chunk.clamp(0.0, 1.0).cpu()


def _apply(step: Step, frames: torch.Tensor) -> torch.Tensor:
    out = step.op.function(frames, **step.params)
    scale = step.op.output_scale(step.params)
    expected = (frames.shape[0], frames.shape[1], frames.shape[2] * scale, frames.shape[3] * scale)
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
    frames: _FrameSource,
    source: Any,
    shots: Sequence[Mapping[str, Any]] | None,
) -> list[ShotPlan]:
    last = frames.frame_count - 1
    if not pipeline.analysis_driven:
        return [ShotPlan(0, last, pipeline.steps)]
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
    return plans


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
        return self

    def __exit__(self, *exc_info):
        torch.use_deterministic_algorithms(self._was, warn_only=self._warn_only)
        return self._rng.__exit__(*exc_info)


class _FrameSource:
    """Frames of a tensor or a video file, read in increasing order with a rolling buffer."""

    def __init__(self, *, frame_count, channels, height, width, fps, bit_depth, tensor=None, path=None, chunk_size=32):
        self.frame_count = frame_count
        self.channels = channels
        self.height = height
        self.width = width
        self.fps = fps
        self.bit_depth = bit_depth
        self._tensor = tensor
        self._path = path
        self._chunk_size = chunk_size
        self._chunks: Iterator | None = None
        self._buffer: torch.Tensor | None = None
        self._buffer_start = 0

    @classmethod
    def open(cls, source, *, fps: float | None, chunk_size: int) -> _FrameSource:
        if isinstance(source, torch.Tensor):
            if source.ndim != 4 or source.shape[1] not in (1, 3) or source.shape[0] == 0:
                raise SpecError(f"source: expected frames (T, C, H, W) with C 1 or 3 and T > 0, got {tuple(source.shape)}")
            if not source.is_floating_point():
                raise SpecError(f"source: expected float frames in [0, 1], got {source.dtype}")
            t, c, h, w = source.shape
            return cls(frame_count=t, channels=c, height=h, width=w, fps=fps, bit_depth=8, tensor=source)
        from restoration.io import probe

        info = probe(source)
        if not info.frame_count:
            raise MediaError(f"{source}: no video frames")
        return cls(
            frame_count=info.frame_count,
            channels=info.channels,
            height=info.height,
            width=info.width,
            fps=fps or info.fps,
            bit_depth=8 if (info.bit_depth or 8) <= 8 else 16,
            path=source,
            chunk_size=chunk_size,
        )

    def get(self, lo: int, hi: int) -> torch.Tensor:
        """Frames [lo, hi); calls must not go back before an earlier call's ``lo``."""
        if self._tensor is not None:
            return self._tensor[lo:hi]
        if self._chunks is None:
            from restoration.io import iter_chunks

            self._chunks = iter(iter_chunks(self._path, self._chunk_size))
        if self._buffer is not None and lo > self._buffer_start:
            # Drop what no later window needs, so memory stays bounded by one window and its context.
            self._buffer = self._buffer[lo - self._buffer_start :]
            self._buffer_start = lo
        while self._buffer is None or self._buffer_start + self._buffer.shape[0] < hi:
            try:
                first, chunk = next(self._chunks)
            except StopIteration:
                have = 0 if self._buffer is None else self._buffer_start + self._buffer.shape[0]
                raise MediaError(
                    f"{self._path}: the video ends after {have} frames, expected {self.frame_count} (truncated?)"
                ) from None
            if self._buffer is None:
                self._buffer, self._buffer_start = chunk, first
            else:
                self._buffer = torch.cat([self._buffer, chunk])
            if self._buffer_start < lo:
                self._buffer = self._buffer[lo - self._buffer_start :]
                self._buffer_start = lo
        return self._buffer[lo - self._buffer_start : hi - self._buffer_start]


# --------------------------------------------------------------------------------------------
# CLI


def cli_restore(args) -> int:
    """`python -m restoration restore IN OUT [--preset NAME | --pipeline spec.json] ...`"""
    from restoration.io import VideoWriter, probe

    source, output = Path(args.input), Path(args.output)
    spec = load_spec(args.pipeline) if args.pipeline else preset_spec(args.preset or DEFAULT_PRESET)
    device = resolve_device(args.device)
    _check_not_the_input(output, source)
    info = probe(source)
    VideoWriter(output, fps=spec.retime_fps or info.fps, codec=args.codec)  # checks name, codec, folder; writes nothing
    first_phase = "analysing" if spec.analysis_driven else "restoring"
    bar = None if args.quiet else ProgressBar(f"{first_phase} {source.name}")
    try:
        shots = None
        if spec.analysis_driven:
            # Analysed here rather than inside run_pipeline, so the bar shows this phase too.
            from restoration.analysis import analyse

            shots = analyse(source, fps=info.fps, progress=bar).get("shots") or []
            if bar is not None:
                bar.phase(f"restoring {source.name}")
        result = run_pipeline(
            source, spec, output=output, device=device, progress=bar, codec=args.codec, shots=shots
        )
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(
            f"wrote {output}: {result.frame_count} frames {result.width}x{result.height}"
            f" at {result.fps:g} fps from {info.frame_count} frames in {result.seconds:.1f} s",
            file=sys.stderr,
        )
    return 0


def _check_not_the_input(output: Path, source: Path) -> None:
    try:
        same = output.exists() and source.exists() and output.samefile(source)
    except OSError:
        same = False
    if same:
        raise MediaError(f"{output}: the output would overwrite the input")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _os_reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
