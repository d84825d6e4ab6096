"""Colour primitives: levels, lift/gamma/gain, saturation, white balance.

All take and return (T, C, H, W) float frames in [0, 1] (results are clamped to that range).
Grey footage (C = 1) is common in archives: ``levels`` and ``lift_gamma_gain`` work on it
(master values only), while ``saturation`` and ``white_balance`` leave it unchanged, as a
colourist would expect from those controls on a monochrome image.

Per-channel values are separate scalar parameters (``lift_r``, ``gain_b``, ...) so a JSON
pipeline spec can set them; they combine with the master value the way a grading panel's
master and colour wheels do (lift adds, gamma and gain multiply).
"""

from __future__ import annotations

import torch

from restoration.errors import SpecError
from restoration.luma import REC709_LUMA, luma  # Rec. 709: the luma saturation and white balance are defined to keep
from restoration.ops._common import check_frames
from restoration.ops.opspec import OpSpec, Param

__all__ = [
    "levels",
    "lift_gamma_gain",
    "saturation",
    "white_balance",
    "Levels",
    "LiftGammaGain",
    "Saturation",
    "WhiteBalance",
    "WHITE_BALANCE_RADIUS",
    "LEVELS_OP",
    "LIFT_GAMMA_GAIN_OP",
    "SATURATION_OP",
    "WHITE_BALANCE_OP",
]

# Automatic white balance averages its channel statistics over t-R..t+R, so the correction
# does not pump from frame to frame while content moves through the shot.
WHITE_BALANCE_RADIUS = 8

# A white-patch estimate ignores the brightest 1 % of pixels (specular highlights, dust).
_WHITE_PATCH_QUANTILE = 0.99
# torch.quantile refuses very large inputs and sorts a copy: the bright quantile is taken per
# frame on an evenly strided subsample (plenty for a 99th percentile).
_MAX_STATISTIC_SAMPLES = 1 << 18


def _channel_values(frames: torch.Tensor, master: float, red: float, green: float, blue: float,
                    *, neutral: float, combine: str, name: str) -> torch.Tensor:
    """Per-channel values (1, C, 1, 1): master combined with the channel's own value."""
    if frames.shape[1] == 1:
        if (red, green, blue) != (neutral, neutral, neutral):
            raise SpecError(f"{name}: per-channel values need colour frames (C=3), got grey frames (C=1)")
        values = [master]
    elif combine == "add":
        values = [master + red, master + green, master + blue]
    else:
        values = [master * red, master * green, master * blue]
    return torch.tensor(values, device=frames.device, dtype=frames.dtype).view(1, -1, 1, 1)


def levels(frames: torch.Tensor, *, black_in: float = 0.0, white_in: float = 1.0, gamma: float = 1.0,
           black_out: float = 0.0, white_out: float = 1.0) -> torch.Tensor:
    """Levels: map [black_in, white_in] to [0, 1], apply gamma, then map to [black_out, white_out].

    ``gamma`` > 1 brightens the mid-tones (out = in ** (1 / gamma)), as in common levels tools.
    Inputs outside [black_in, white_in] are clipped.
    """
    check_frames(frames, "levels")
    if not white_in > black_in:
        raise SpecError(f"levels: white_in ({white_in}) must be above black_in ({black_in})")
    if not gamma > 0:
        raise SpecError(f"levels: gamma must be positive, got {gamma}")
    normalised = ((frames - black_in) / (white_in - black_in)).clamp(0.0, 1.0)
    if gamma != 1.0:
        normalised = normalised.pow(1.0 / gamma)
    return (black_out + normalised * (white_out - black_out)).clamp(0.0, 1.0)


def lift_gamma_gain(frames: torch.Tensor, *, lift: float = 0.0, gamma: float = 1.0, gain: float = 1.0,
                    lift_r: float = 0.0, lift_g: float = 0.0, lift_b: float = 0.0,
                    gamma_r: float = 1.0, gamma_g: float = 1.0, gamma_b: float = 1.0,
                    gain_r: float = 1.0, gain_g: float = 1.0, gain_b: float = 1.0) -> torch.Tensor:
    """Lift, gamma, gain per channel: ``out = gain * (lift + (1 - lift) * x) ** (1 / gamma)``.

    Lift moves the blacks (x = 0 -> lift) and leaves white in place, gamma bends the mid-tones
    (> 1 brighter) with black and white fixed, gain scales from black. The effective value for
    a channel is ``lift + lift_c``, ``gamma * gamma_c`` and ``gain * gain_c``. On grey frames
    only the master values apply (per-channel values other than neutral raise SpecError).
    """
    check_frames(frames, "lift_gamma_gain")
    lifts = _channel_values(frames, lift, lift_r, lift_g, lift_b, neutral=0.0, combine="add", name="lift_gamma_gain")
    gammas = _channel_values(frames, gamma, gamma_r, gamma_g, gamma_b, neutral=1.0, combine="mul",
                             name="lift_gamma_gain")
    gains = _channel_values(frames, gain, gain_r, gain_g, gain_b, neutral=1.0, combine="mul", name="lift_gamma_gain")
    if bool((gammas <= 0).any()):
        raise SpecError(f"lift_gamma_gain: gamma must be positive, got {gammas.flatten().tolist()}")
    if bool((lifts >= 1).any()):
        raise SpecError(f"lift_gamma_gain: lift must be below 1, got {lifts.flatten().tolist()}")
    lifted = (lifts + (1.0 - lifts) * frames).clamp_min(0.0)
    return (gains * lifted.pow(1.0 / gammas)).clamp(0.0, 1.0)


def saturation(frames: torch.Tensor, *, amount: float = 1.0) -> torch.Tensor:
    """Scale colourfulness around the Rec. 709 luma: 0 gives grey, 1 no change, 2 doubles chroma.

    Grey frames (C = 1) have no colour to scale and are returned unchanged (as a copy).
    """
    check_frames(frames, "saturation")
    if amount < 0:
        raise SpecError(f"saturation: amount must be 0 or more, got {amount}")
    if frames.shape[1] == 1:
        return frames.clone()
    grey = luma(frames, weights=REC709_LUMA)
    return (grey + amount * (frames - grey)).clamp(0.0, 1.0)


def _subsample(values: torch.Tensor) -> torch.Tensor:
    """(N, C, K) -> (N, C, K') with K' <= _MAX_STATISTIC_SAMPLES, evenly strided."""
    step = -(-values.shape[-1] // _MAX_STATISTIC_SAMPLES)
    return values[..., ::step]


def _channel_statistics(frames: torch.Tensor, mode: str) -> torch.Tensor:
    """Per-frame estimate of the illuminant's colour (T, 3): channel means or bright quantiles."""
    flat = frames.flatten(2)
    if mode == "grey_world":
        return flat.mean(dim=-1, dtype=torch.float32 if flat.dtype != torch.float64 else torch.float64)
    return torch.cat([torch.quantile(_subsample(frame[None]).float(), _WHITE_PATCH_QUANTILE, dim=-1)
                      for frame in flat])


def _temporal_mean(values: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over t-R..t+R of (T, K) values, indices clamped to the clip (so windows agree)."""
    length = values.shape[0]
    index = torch.arange(length, device=values.device)
    offsets = torch.arange(-radius, radius + 1, device=values.device)
    neighbours = (index[:, None] + offsets[None, :]).clamp(0, length - 1)
    return values[neighbours].mean(dim=1)


def white_balance(frames: torch.Tensor, *, mode: str = "grey_world", strength: float = 1.0,
                  gain_r: float = 1.0, gain_g: float = 1.0, gain_b: float = 1.0) -> torch.Tensor:
    """Neutralise a colour cast with per-channel gains.

    ``mode``: ``"gains"`` applies ``gain_r/g/b`` as given; ``"grey_world"`` makes the average
    colour neutral; ``"white_patch"`` makes the 99th percentile of each channel neutral. The
    automatic modes measure each frame, average the measurements over t-8..t+8 (clamped to the
    clip) and choose gains that keep the measured colour's Rec. 709 luma, so exposure does not
    change. ``strength`` in [0, 1] blends the gains towards 1 geometrically (0 = no change).
    Grey frames (C = 1) are returned unchanged (as a copy).
    """
    check_frames(frames, "white_balance")
    if mode not in ("gains", "grey_world", "white_patch"):
        raise SpecError(f"white_balance: mode must be gains, grey_world or white_patch, got {mode!r}")
    if not 0.0 <= strength <= 1.0:
        raise SpecError(f"white_balance: strength must be in [0, 1], got {strength}")
    if min(gain_r, gain_g, gain_b) <= 0:
        raise SpecError(f"white_balance: gains must be positive, got {(gain_r, gain_g, gain_b)}")
    if frames.shape[1] == 1:
        return frames.clone()
    return apply_gains(frames, white_balance_gains(frames, mode=mode, strength=strength, gain_r=gain_r,
                                                   gain_g=gain_g, gain_b=gain_b))


def white_balance_gains(frames: torch.Tensor, *, mode: str, strength: float, gain_r: float, gain_g: float,
                        gain_b: float) -> torch.Tensor:
    """:func:`white_balance`'s gains (T, 3) for RGB ``frames``: measured on the whole frames, so
    ``pipeline.tiling`` applies them tile by tile (:func:`apply_gains`)."""
    if mode == "gains":
        gains = frames.new_tensor([gain_r, gain_g, gain_b]).view(1, 3).expand(frames.shape[0], 3)
    else:
        stats = _temporal_mean(_channel_statistics(frames, mode), WHITE_BALANCE_RADIUS)
        stats = stats.clamp_min(1e-4)  # a channel that is black everywhere gets a bounded gain
        target = (stats * stats.new_tensor(REC709_LUMA)).sum(dim=1, keepdim=True)
        gains = (target / stats).to(frames.dtype)
    return gains.pow(strength)


def apply_gains(frames: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    """RGB ``frames`` (T, 3, H, W) times per-frame channel ``gains`` (T, 3), clamped to [0, 1]."""
    return (frames * gains.view(-1, 3, 1, 1)).clamp(0.0, 1.0)


class Levels(torch.nn.Module):
    """Module form of :func:`levels`."""

    def __init__(self, *, black_in: float = 0.0, white_in: float = 1.0, gamma: float = 1.0,
                 black_out: float = 0.0, white_out: float = 1.0) -> None:
        super().__init__()
        self.params = dict(black_in=black_in, white_in=white_in, gamma=gamma, black_out=black_out,
                           white_out=white_out)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return levels(frames, **self.params)


class LiftGammaGain(torch.nn.Module):
    """Module form of :func:`lift_gamma_gain`."""

    def __init__(self, **params: float) -> None:
        super().__init__()
        unknown = sorted(set(params) - set(_LIFT_GAMMA_GAIN_PARAMS))
        if unknown:
            raise SpecError(f"lift_gamma_gain: unknown parameter {unknown[0]!r}")
        self.params = dict(params)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return lift_gamma_gain(frames, **self.params)


class Saturation(torch.nn.Module):
    """Module form of :func:`saturation`."""

    def __init__(self, *, amount: float = 1.0) -> None:
        super().__init__()
        self.amount = amount

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return saturation(frames, amount=self.amount)


class WhiteBalance(torch.nn.Module):
    """Module form of :func:`white_balance`."""

    def __init__(self, *, mode: str = "grey_world", strength: float = 1.0, gain_r: float = 1.0,
                 gain_g: float = 1.0, gain_b: float = 1.0) -> None:
        super().__init__()
        self.params = dict(mode=mode, strength=strength, gain_r=gain_r, gain_g=gain_g, gain_b=gain_b)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return white_balance(frames, **self.params)


_UNIT = dict(minimum=0.0, maximum=1.0)
_LIFT_GAMMA_GAIN_PARAMS = {
    "lift": Param(float, 0.0, minimum=-1.0, maximum=0.9, help="master lift: raises (or lowers) the blacks"),
    "gamma": Param(float, 1.0, minimum=0.1, maximum=10.0, help="master gamma: > 1 brightens the mid-tones"),
    "gain": Param(float, 1.0, minimum=0.0, maximum=4.0, help="master gain: scales from black"),
    **{f"lift_{c}": Param(float, 0.0, minimum=-1.0, maximum=0.9, help=f"{c} lift, added to lift") for c in "rgb"},
    **{f"gamma_{c}": Param(float, 1.0, minimum=0.1, maximum=10.0, help=f"{c} gamma, times gamma") for c in "rgb"},
    **{f"gain_{c}": Param(float, 1.0, minimum=0.0, maximum=4.0, help=f"{c} gain, times gain") for c in "rgb"},
}

LEVELS_OP = OpSpec(
    name="levels",
    function=levels,
    module=Levels,
    params={
        "black_in": Param(float, 0.0, **_UNIT, help="input value that becomes black"),
        "white_in": Param(float, 1.0, **_UNIT, help="input value that becomes white"),
        "gamma": Param(float, 1.0, minimum=0.1, maximum=10.0, help="> 1 brightens the mid-tones"),
        "black_out": Param(float, 0.0, **_UNIT, help="output value of black"),
        "white_out": Param(float, 1.0, **_UNIT, help="output value of white"),
    },
    tileable=True,  # pointwise
    description="levels: input black/white points, gamma, output black/white points",
)

LIFT_GAMMA_GAIN_OP = OpSpec(
    name="lift_gamma_gain",
    function=lift_gamma_gain,
    module=LiftGammaGain,
    params=_LIFT_GAMMA_GAIN_PARAMS,
    tileable=True,  # pointwise
    description="lift, gamma and gain, master and per channel",
)

SATURATION_OP = OpSpec(
    name="saturation",
    function=saturation,
    module=Saturation,
    params={"amount": Param(float, 1.0, minimum=0.0, maximum=4.0, help="0 grey, 1 unchanged, 2 double")},
    tileable=True,  # pointwise
    description="saturation around Rec. 709 luma (no change on grey footage)",
)

WHITE_BALANCE_OP = OpSpec(
    name="white_balance",
    function=white_balance,
    module=WhiteBalance,
    params={
        "mode": Param(str, "grey_world", choices=("gains", "grey_world", "white_patch"),
                      help="gains as given, or automatic grey-world / white-patch"),
        "strength": Param(float, 1.0, **_UNIT, help="how far to go towards the neutral balance"),
        "gain_r": Param(float, 1.0, minimum=0.05, maximum=20.0, help="red gain (mode gains)"),
        "gain_g": Param(float, 1.0, minimum=0.05, maximum=20.0, help="green gain (mode gains)"),
        "gain_b": Param(float, 1.0, minimum=0.05, maximum=20.0, help="blue gain (mode gains)"),
    },
    temporal_radius=WHITE_BALANCE_RADIUS,
    tileable=True,  # the automatic modes measure whole frames (pipeline.tiling._white_balance_tiled)
    description="white balance by gains or automatic grey-world / white-patch (no change on grey footage)",
)
