"""ASC CDL (Color Decision List, v1.2): slope, offset and power per channel, then saturation.

Per channel, ``sop = clamp(in * slope + offset, 0, 1) ** power``; then saturation around the
Rec. 709 luma of the result, ``out = clamp(luma + saturation * (sop - luma), 0, 1)``. These are
the maths of the ASC CDL v1.2 and of OpenColorIO's ``CDLTransform`` in its ASC (clamping)
style, so a correction made here looks the same in any CDL-aware grading tool.

Grey films are graded too: tinting and toning give a grey picture colour. A grey input (C = 1)
stays grey when the CDL treats the three channels alike (the result is then the same on each);
otherwise it is broadcast to three channels and comes out in colour (C = 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from restoration.colour._frames import as_rgb, check_frames
from restoration.errors import SpecError
from restoration.luma import REC709_LUMA, luma

__all__ = ["Cdl", "CdlLayer", "cdl_apply", "IDENTITY_CDL"]

Triple = tuple[float, float, float]


def _triple(value, name: str) -> Triple:
    try:
        values = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise SpecError(f"CDL {name} must be three numbers, got {value!r}") from None
    if len(values) != 3:
        raise SpecError(f"CDL {name} must be three numbers (R, G, B), got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise SpecError(f"CDL {name} must be finite numbers, got {values}")
    return values  # type: ignore[return-value]


@dataclass(frozen=True)
class Cdl:
    """One ASC colour correction. Values are checked (and made float tuples) on creation."""

    slope: Triple = (1.0, 1.0, 1.0)
    offset: Triple = (0.0, 0.0, 0.0)
    power: Triple = (1.0, 1.0, 1.0)
    saturation: float = 1.0

    def __post_init__(self) -> None:
        slope, offset, power = _triple(self.slope, "slope"), _triple(self.offset, "offset"), _triple(self.power, "power")
        if min(slope) < 0:
            raise SpecError(f"CDL slope must be 0 or more, got {slope}")
        if min(power) <= 0:
            raise SpecError(f"CDL power must be above 0, got {power}")
        try:
            saturation = float(self.saturation)
        except (TypeError, ValueError):
            raise SpecError(f"CDL saturation must be a number, got {self.saturation!r}") from None
        if not math.isfinite(saturation) or saturation < 0:
            raise SpecError(f"CDL saturation must be a finite number, 0 or more, got {self.saturation!r}")
        object.__setattr__(self, "slope", slope)
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "power", power)
        object.__setattr__(self, "saturation", saturation)

    @property
    def is_identity(self) -> bool:
        return self == IDENTITY_CDL

    @property
    def is_neutral(self) -> bool:
        """True when the three channels are treated alike (a grey picture stays grey)."""
        return all(len(set(values)) == 1 for values in (self.slope, self.offset, self.power))

    def to_dict(self) -> dict:
        return {"slope": list(self.slope), "offset": list(self.offset), "power": list(self.power),
                "saturation": self.saturation}

    @classmethod
    def from_dict(cls, data) -> Cdl:
        if not isinstance(data, dict):
            raise SpecError(f"CDL must be an object with slope, offset, power, saturation, got {type(data).__name__}")
        unknown = sorted(set(data) - {"slope", "offset", "power", "saturation"})
        if unknown:
            raise SpecError(f"CDL: unknown field {unknown[0]!r}")
        return cls(**data)


IDENTITY_CDL = Cdl()


def cdl_apply(frames: torch.Tensor, cdl: Cdl) -> torch.Tensor:
    """Frames (T, C, H, W) in [0, 1] through the CDL; same device and dtype.

    Grey frames stay grey (C = 1) under a neutral CDL, and become colour (C = 3) otherwise.
    """
    check_frames(frames, "cdl")
    if frames.shape[1] == 1 and cdl.is_neutral:
        # Equal channels in, equal channels out: saturation has nothing to act on.
        return (frames * cdl.slope[0] + cdl.offset[0]).clamp(0.0, 1.0).pow(cdl.power[0])
    rgb = as_rgb(frames)
    slope, offset, power = (rgb.new_tensor(values).view(1, 3, 1, 1) for values in (cdl.slope, cdl.offset, cdl.power))
    graded = (rgb * slope + offset).clamp(0.0, 1.0).pow(power)
    if cdl.saturation != 1.0:
        grey = luma(graded, weights=REC709_LUMA)  # the ASC CDL defines saturation on Rec. 709 luma
        graded = grey + cdl.saturation * (graded - grey)
    return graded.clamp(0.0, 1.0)


class CdlLayer(torch.nn.Module):
    """Module form of :func:`cdl_apply`."""

    def __init__(self, cdl: Cdl = IDENTITY_CDL) -> None:
        super().__init__()
        self.cdl = cdl

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return cdl_apply(frames, self.cdl)
