"""Every op the engine offers, registered in this one module; look ops up here by name.

Op modules only declare their ``OpSpec`` (``restoration.ops.opspec``): registering them all
here means a name such as ``ffmpeg`` or ``learned_restore`` is known whatever was imported first.
This module also hands the learned refinement to the classical frame interpolation, so
``restoration.ops`` never imports ``restoration.models``.
"""

from __future__ import annotations

from restoration.classical import FFMPEG_OP
from restoration.errors import SpecError
from restoration.models.learned_ops import LEARNED_RESTORE_OP, LEARNED_UPSCALE_OP, refine_interpolation
from restoration.ops.colour import LEVELS_OP, LIFT_GAMMA_GAIN_OP, SATURATION_OP, WHITE_BALANCE_OP
from restoration.ops.deblock import DEBLOCK_OP
from restoration.ops.deflicker import DEFLICKER_OP
from restoration.ops.denoise import DENOISE_OP
from restoration.ops.dust import DUST_OP
from restoration.ops.interpolate import Refine
from restoration.ops.opspec import OpSpec
from restoration.ops.scratch import SCRATCH_OP
from restoration.ops.stabilise import STABILISE_OP
from restoration.ops.upscale import UPSCALE_OP

__all__ = ["BUILTIN_OPS", "INTERPOLATE_METHODS", "get_op", "interpolation_refine", "list_ops", "register_op"]

BUILTIN_OPS: tuple[OpSpec, ...] = (
    DENOISE_OP,
    DUST_OP,
    SCRATCH_OP,
    DEFLICKER_OP,
    STABILISE_OP,
    DEBLOCK_OP,
    LEVELS_OP,
    LIFT_GAMMA_GAIN_OP,
    SATURATION_OP,
    WHITE_BALANCE_OP,
    UPSCALE_OP,
    FFMPEG_OP,
    LEARNED_RESTORE_OP,
    LEARNED_UPSCALE_OP,
)

_REGISTRY: dict[str, OpSpec] = {}


def register_op(spec: OpSpec) -> OpSpec:
    """Add an op (the built-ins are added below; tests add their own)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"op {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def get_op(name: str) -> OpSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SpecError(f"unknown op {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def list_ops() -> list[OpSpec]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


for _spec in BUILTIN_OPS:
    register_op(_spec)


# Frame-rate conversion (not a registry op: it changes the frame count). classical: the
# motion-compensated blend of ``ops.interpolate``; learned: that blend refined by the
# interpolation network of ``restoration.models`` (same flows, same inputs).
_REFINES: dict[str, Refine | None] = {"classical": None, "learned": refine_interpolation}
INTERPOLATE_METHODS = tuple(_REFINES)


def interpolation_refine(method: str) -> Refine | None:
    """What ``ops.interpolate.interpolate_frames`` is given as ``refine`` for this method."""
    if method not in _REFINES:
        raise SpecError(f"interpolate: method must be one of {', '.join(INTERPOLATE_METHODS)}, got {method!r}")
    return _REFINES[method]
