"""What an op declares: every restoration op is a functional form plus a thin nn.Module, described
by one ``OpSpec`` constant beside them (e.g. ``ops.deflicker.DEFLICKER_OP``).

``restoration.op_registry`` registers them all; the pipeline looks ops up there by name,
validates their parameters against the declared ``Param``s (errors name the bad field) and asks
``temporal_radius`` how many neighbouring frames an op needs on each side, so windows can overlap
by that much and no seam shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from restoration.errors import SpecError


@dataclass(frozen=True)
class Param:
    kind: type  # float, int, bool or str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    help: str = ""

    def validate(self, op_name: str, name: str, value: Any) -> Any:
        where = f"ops.{op_name}.params.{name}"
        if self.kind is bool:
            if not isinstance(value, bool):
                raise SpecError(f"{where}: expected true or false, got {value!r}")
            return value
        if self.kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(f"{where}: expected a number, got {value!r}")
            if self.kind is int and int(value) != value:
                raise SpecError(f"{where}: expected an integer, got {value!r}")
            value = self.kind(value)
            if self.minimum is not None and value < self.minimum:
                raise SpecError(f"{where}: {value} is below the minimum {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise SpecError(f"{where}: {value} is above the maximum {self.maximum}")
            if self.choices is not None and value not in self.choices:
                raise SpecError(f"{where}: {value} is not one of {', '.join(map(str, self.choices))}")
            return value
        if self.kind is str:
            if not isinstance(value, str):
                raise SpecError(f"{where}: expected a string, got {value!r}")
            if self.choices is not None and value not in self.choices:
                raise SpecError(f"{where}: {value!r} is not one of {', '.join(map(str, self.choices))}")
            return value
        raise SpecError(f"{where}: unsupported parameter kind {self.kind!r}")


@dataclass(frozen=True)
class OpSpec:
    """One registered op.

    ``function(frames, **params)`` takes and returns float tensors (T, C, H, W) in [0, 1] on the
    input's device. ``module`` is the nn.Module whose ``forward(frames)`` equals the function with
    the parameters given to its constructor. ``temporal_radius`` is the number of neighbouring
    frames needed on each side for a correct result at a frame (the most any parameters need), and
    ``radius_param`` the name of the integer parameter that sets it for one run, when there is one
    (a denoise over +-1 frame needs 1 frame of context, not its maximum of 3); ``scale`` the
    spatial factor, or ``scale_param`` the name of the integer parameter that sets it (e.g.
    upscale's ``factor``). ``tileable``: the pipeline may run the op tile by tile inside a window
    (``pipeline.tiling``) because its tiled output equals its whole-frame output (within half an
    8-bit code value; tests/restoration/pipeline/test_tiling.py checks each); an op that estimates
    something over the whole frame (a grain level, a flow, a column profile) is tileable only with a
    form in ``pipeline.tiling.SHARED_ESTIMATES`` that estimates it once on the whole frames.
    ``shares_flows``: the function also takes ``flows=`` a ``ops.flow.SharedFlows`` (or None), the
    motion of the pipeline's window estimated once for the chain's temporal ops (the pipeline passes
    it to the op, or in tiles to its shared-estimate form). ``moves_picture``: the op moves things in the picture
    (stabilise), so flows estimated before it no longer hold after it. ``working_copies``: float32
    copies of a tile (per frame of the window) the op holds at once, when it holds more than the
    planner's ``pipeline.tiling.WORKING_COPIES`` (None): its tiles are sized from that count.
    """

    name: str
    function: Callable[..., torch.Tensor]
    module: type[torch.nn.Module]
    params: Mapping[str, Param] = field(default_factory=dict)
    temporal_radius: int = 0
    radius_param: str | None = None
    scale: int = 1
    scale_param: str | None = None
    tileable: bool = False
    shares_flows: bool = False
    moves_picture: bool = False
    working_copies: int | None = None
    description: str = ""

    def context_radius(self, params: Mapping[str, Any]) -> int:
        """Frames of context needed on each side with these (validated) parameters."""
        if self.radius_param is None:
            return self.temporal_radius
        return min(self.temporal_radius, int(params[self.radius_param]))

    def output_scale(self, params: Mapping[str, Any]) -> int:
        """The spatial factor this op applies with these (validated) parameters."""
        return int(params[self.scale_param]) if self.scale_param else self.scale

    def validate_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise SpecError(
                f"ops.{self.name}.params: unknown parameter {unknown[0]!r}"
                f" (known: {', '.join(sorted(self.params)) or 'none'})"
            )
        return {
            name: param.validate(self.name, name, params[name]) if name in params else param.default
            for name, param in self.params.items()
        }
