"""Pipeline specs: validating a JSON spec into ``Step``s, the presets, loading a spec file.

The format is described in ``restoration.pipeline``'s docstring.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restoration.errors import SpecError
from restoration.op_registry import INTERPOLATE_METHODS, get_op
from restoration.ops.opspec import OpSpec

ANALYSIS_OPS = "analysis"
SPEC_KEYS = ("ops", "retime")
STEP_KEYS = ("op", "params")
RETIME_KEYS = ("fps", "method")
MAX_FPS = 1000.0
# Real pipelines run 4 to 8 ops; a spec of thousands is a mistake or an attack on the workers.
MAX_STEPS = 32
DEFAULT_PRESET = "film"

# The fixed preset: the four everyday film repairs with their defaults. Used as is by
# `--preset clean`, and by the film preset for a shot the analysis gave no recommendation for.
CLEAN_OPS = [{"op": "denoise"}, {"op": "dust"}, {"op": "scratch"}, {"op": "deflicker"}]
PRESETS: dict[str, dict[str, Any]] = {
    "film": {"ops": ANALYSIS_OPS},
    "clean": {"ops": CLEAN_OPS},
}


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
    if len(ops) > MAX_STEPS:
        raise SpecError(f"{where}: {len(ops)} steps (at most {MAX_STEPS})")
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

