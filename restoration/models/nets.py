"""Small learned networks for film restoration, sized for a CPU.

``TemporalRestoreNet`` restores the centre frame of a window of ``2R + 1`` grey frames and
predicts where the centre frame is damaged (dust, blotches, hairs, scratches), in the spirit of
FastDVDnet / BasicVSR / "Bringing Old Films Back to Life" but much smaller:

1. Alignment: every neighbour is warped onto the centre frame with the shared classical flow
   (``ops.flow.estimate_flow`` at a coarse working size, ``ops.flow.warp`` at full size). Film
   motion is smooth, so a coarse flow is enough, and what it misses (a pixel or two) the
   fusion's receptive field absorbs.
2. Fusion: a residual U-Net on the aligned stack. The stack is first folded 2x2 into channels
   (pixel-unshuffle): the network then runs at half resolution, which is what makes it fast
   enough on a CPU, and the output is unfolded back (pixel-shuffle). Three scales (1/2, 1/4,
   1/8) give a receptive field of ~100 px, enough to fill a blotch from its surroundings when
   the neighbours do not show the content either.
3. Heads: a residual added to the centre frame, and defect-mask logits (trained with BCE on
   the masks of ``restoration.degrade``).

Colour (C=3) is handled outside the net (see ``restore_window``): the net restores luma, and
chroma is the per-pixel median of the aligned neighbours' chroma (which removes one-frame dust
and chroma noise). Old film is mostly grey, and the luma path is where the defects are.

``SuperResNet`` is an ESPCN-style x2 upscaler (a few residual blocks at the input resolution,
pixel-shuffle), predicting a residual over bicubic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from restoration.errors import ModelError
from restoration.luma import REC601_LUMA, luma
from restoration.ops.flow import estimate_flow, warp

__all__ = [
    "RestoreConfig",
    "SRConfig",
    "InterpConfig",
    "TemporalRestoreNet",
    "InterpNet",
    "INTERP_INPUTS",
    "SuperResNet",
    "align_window",
    "window_flow",
    "warp_window",
    "split_luma_chroma",
    "NET_LUMA",
    "count_parameters",
    "save_checkpoint",
    "load_checkpoint",
]

# The networks were trained on Rec. 601 luma: they must keep being fed that.
NET_LUMA = REC601_LUMA
# Coarse flow: the finest flow level is about this many pixels on the short side. Film motion is
# smooth and the fusion tolerates small misalignment, and this keeps alignment cheap.
FLOW_WORK_SIDE = 64
FLOW_ITERATIONS = 3


@dataclass(frozen=True)
class RestoreConfig:
    radius: int = 2
    widths: tuple[int, int, int] = (32, 48, 64)
    align: bool = True
    # The net also sees, per neighbour, where the centre frame stood in for it (windows.aligned_windows'
    # fell-back map). Files written before it have no such key: they are nets without the maps.
    fallback_maps: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RestoreConfig:
        try:
            return cls(radius=int(data["radius"]), widths=tuple(int(w) for w in data["widths"]),
                       align=bool(data["align"]), fallback_maps=bool(data.get("fallback_maps", False)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"bad restore model config {data!r} ({exc})") from None


@dataclass(frozen=True)
class SRConfig:
    factor: int = 2
    width: int = 32
    blocks: int = 4

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SRConfig:
        try:
            return cls(factor=int(data["factor"]), width=int(data["width"]), blocks=int(data["blocks"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"bad super-resolution model config {data!r} ({exc})") from None


@dataclass(frozen=True)
class InterpConfig:
    widths: tuple[int, int, int] = (24, 32, 48)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> InterpConfig:
        try:
            return cls(widths=tuple(int(w) for w in data["widths"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"bad interpolation model config {data!r} ({exc})") from None


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


class _Block(nn.Module):
    """Two 3x3 convolutions with a residual connection (no normalisation: batch statistics
    would make results depend on the batch, and tiles must agree)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = _conv(width, width)
        self.conv2 = _conv(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.1))


def window_flow(window: torch.Tensor, radius: int) -> torch.Tensor:
    """Flow (N, 2R, 2, H, W) from the centre frame (index R) of ``window`` (N, 2R+1, H, W) to each
    other frame, in frame order, such that ``warp(frame, flow)`` lies on the centre frame.

    Estimated at a coarse working size (``FLOW_WORK_SIDE``), returned at full size; all 2R
    neighbours of all N windows go through ``estimate_flow`` as one batch.
    """
    n, frames, h, w = window.shape
    if frames != 2 * radius + 1:
        raise ModelError(f"expected windows of {2 * radius + 1} frames, got {frames}")
    others = [i for i in range(frames) if i != radius]
    neighbours = window[:, others].reshape(n * len(others), 1, h, w)
    sources = window[:, radius:radius + 1].repeat_interleave(len(others), dim=0)
    with torch.no_grad():
        flow = estimate_flow(sources, neighbours, work_side=FLOW_WORK_SIDE, iterations=FLOW_ITERATIONS)
    return flow.reshape(n, len(others), 2, h, w)


def warp_window(window: torch.Tensor, flow: torch.Tensor, radius: int) -> torch.Tensor:
    """Warp the frames of ``window`` (N, 2R+1, C, H, W) onto the centre with ``window_flow``'s flow."""
    n, frames, c, h, w = window.shape
    others = [i for i in range(frames) if i != radius]
    warped = warp(window[:, others].reshape(n * len(others), c, h, w), flow.reshape(n * len(others), 2, h, w))
    warped = warped.reshape(n, len(others), c, h, w)
    return torch.cat([warped[:, :radius], window[:, radius:radius + 1], warped[:, radius:]], dim=1)


def align_window(window: torch.Tensor, radius: int) -> torch.Tensor:
    """Warp every frame of a grey ``window`` (N, 2R+1, H, W) onto its centre frame (index R)."""
    if window.shape[1] == 1 and radius == 0:
        return window
    flow = window_flow(window, radius)
    return warp_window(window.unsqueeze(2), flow, radius).squeeze(2)


def split_luma_chroma(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(N, C, H, W) -> luma (N, 1, H, W) and chroma = frames - luma (N, 3, H, W), or None for grey."""
    if frames.shape[1] == 1:
        return frames, None
    grey = luma(frames, weights=NET_LUMA)
    return grey, frames - grey


class _HalfResUNet(nn.Module):
    """The trunk both temporal nets share: inputs folded 2x2 into channels (pixel-unshuffle) run
    through a residual U-Net at 1/2, 1/4 and 1/8 resolution; ``outputs`` channels are unfolded
    back to full size (pixel-shuffle). The last layer starts at zero, so an untrained net adds
    nothing to what it refines."""

    multiple = 8  # unshuffle (2) x two stride-2 stages (4)

    def __init__(self, in_channels: int, widths: tuple[int, int, int], outputs: int) -> None:
        super().__init__()
        w1, w2, w3 = widths
        self.head = _conv(in_channels, w1)
        self.enc1 = _Block(w1)
        self.down2 = _conv(w1, w2, stride=2)
        self.enc2 = _Block(w2)
        self.down3 = _conv(w2, w3, stride=2)
        self.mid = _Block(w3)
        self.up3 = _conv(w3, w2)
        self.dec2 = _Block(w2)
        self.up2 = _conv(w2, w1)
        self.dec1 = _Block(w1)
        self.tail = _conv(w1, 4 * outputs)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """Pad (reflect, or replicate for tiny frames) to a multiple of ``multiple`` at the bottom right."""
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % self.multiple, (-w) % self.multiple
        if not (pad_h or pad_w):
            return x
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"
        return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)

    def trunk(self, features: torch.Tensor) -> torch.Tensor:
        act = lambda t: F.leaky_relu(t, 0.1)  # noqa: E731
        s1 = self.enc1(act(self.head(features)))
        s2 = self.enc2(act(self.down2(s1)))
        s3 = self.mid(act(self.down3(s2)))
        d2 = self.dec2(s2 + act(self.up3(F.interpolate(s3, size=s2.shape[-2:], mode="nearest"))))
        d1 = self.dec1(s1 + act(self.up2(F.interpolate(d2, size=s1.shape[-2:], mode="nearest"))))
        return F.pixel_shuffle(self.tail(d1), 2)


class TemporalRestoreNet(_HalfResUNet):
    """Grey window (N, 2R+1, H, W) in [0, 1] -> (restored centre (N, 1, H, W), mask logits (N, 1, H, W)).

    ``forward`` aligns the window first when ``config.align``; ``fuse`` takes an already
    aligned window (training data is aligned once per clip, before cropping), optionally followed
    by the 2R neighbours' fell-back maps (N, 4R+1, H, W), which only a net with
    ``config.fallback_maps`` reads (others ignore them; a net with them and a window without
    them reads "nothing fell back", as ``align_window``'s windows are).
    """

    def __init__(self, config: RestoreConfig = RestoreConfig()) -> None:
        frames = 2 * config.radius + 1
        # Inputs at half resolution: the unshuffled frames (4 per frame) plus each aligned
        # neighbour's difference to the centre (what changed is what is suspicious), and with
        # ``fallback_maps`` each neighbour's fell-back map. Outputs: a residual and a mask logit per pixel.
        maps = 4 * (frames - 1) if config.fallback_maps else 0
        super().__init__(4 * frames + 4 * (frames - 1) + maps, config.widths, outputs=2)
        self.config = config

    def with_fallback_maps(self) -> TemporalRestoreNet:
        """This net, reading the fell-back maps too: their input weights start at zero, so it gives
        exactly this net's output until it is trained (a fine-tune's starting point)."""
        net = TemporalRestoreNet(RestoreConfig(**{**self.config.to_dict(), "fallback_maps": True}))
        state = self.state_dict()
        head = torch.zeros_like(net.head.weight)
        head[:, :state["head.weight"].shape[1]] = state["head.weight"]
        net.load_state_dict({**state, "head.weight": head})
        return net

    def check_window(self, window: torch.Tensor) -> None:
        frames = 2 * self.config.radius + 1
        if not isinstance(window, torch.Tensor) or window.ndim != 4 or window.shape[1] not in (frames, 2 * frames - 1):
            shape = tuple(window.shape) if isinstance(window, torch.Tensor) else type(window).__name__
            raise ModelError(f"restore net expects windows (N, {frames}, H, W), "
                             f"or with fell-back maps (N, {2 * frames - 1}, H, W), got {shape}")
        if not window.is_floating_point():
            raise ModelError(f"restore net expects float windows in [0, 1], got {window.dtype}")
        if window.shape[-1] < 8 or window.shape[-2] < 8:
            raise ModelError(f"restore net needs frames of at least 8x8, got {tuple(window.shape[-2:])}")

    def forward(self, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.check_window(window)
        if self.config.align:
            window = align_window(window[:, :2 * self.config.radius + 1], self.config.radius)
        return self.fuse(window)

    def fuse(self, aligned: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.check_window(aligned)
        r = self.config.radius
        h, w = aligned.shape[-2:]
        x = self.pad(aligned)
        maps = x[:, 2 * r + 1:]
        x = x[:, :2 * r + 1]
        centre = x[:, r:r + 1]
        diffs = torch.cat([x[:, :r], x[:, r + 1:]], dim=1) - centre
        inputs = [F.pixel_unshuffle(x, 2), F.pixel_unshuffle(diffs, 2)]
        if self.config.fallback_maps:
            inputs.append(F.pixel_unshuffle(maps if maps.shape[1] else torch.zeros_like(diffs), 2))
        out = self.trunk(torch.cat(inputs, dim=1))
        restored = centre + out[:, :1]  # out: (N, 2, H, W): residual, mask logit
        return restored[..., :h, :w], out[:, 1:2, :h, :w]


# Inputs of the interpolation net, in this order (grey, each (N, 1, H, W)).
INTERP_INPUTS = ("estimate", "warped_first", "warped_second", "trust_first", "trust_second", "fraction")


class InterpNet(_HalfResUNet):
    """Refines the classical motion-compensated interpolation: (N, 6, H, W) stacked as
    ``INTERP_INPUTS`` (the classical estimate at time a, both frames warped to a, how far each
    warp is trusted, and a itself as a constant plane) -> the frame at a (N, 1, H, W), the
    estimate plus a learned residual. The net sees what the classical blend threw away (where
    the two warps disagree, and which one the occlusion check trusted)."""

    def __init__(self, config: InterpConfig = InterpConfig()) -> None:
        super().__init__(4 * len(INTERP_INPUTS), config.widths, outputs=1)
        self.config = config

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor) or inputs.ndim != 4 or inputs.shape[1] != len(INTERP_INPUTS):
            shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
            raise ModelError(f"interpolation net expects (N, {len(INTERP_INPUTS)}, H, W), got {shape}")
        if inputs.shape[-1] < 8 or inputs.shape[-2] < 8:
            raise ModelError(f"interpolation net needs frames of at least 8x8, got {tuple(inputs.shape[-2:])}")
        h, w = inputs.shape[-2:]
        x = self.pad(inputs)
        return (x[:, :1] + self.trunk(F.pixel_unshuffle(x, 2)))[..., :h, :w]


class SuperResNet(nn.Module):
    """(N, 1, H, W) -> (N, 1, fH, fW): bicubic plus a learned residual (ESPCN with residual blocks)."""

    def __init__(self, config: SRConfig = SRConfig()) -> None:
        super().__init__()
        if config.factor not in (2, 4):
            raise ModelError(f"super-resolution factor must be 2 or 4, got {config.factor}")
        self.config = config
        self.head = _conv(1, config.width)
        self.body = nn.Sequential(*[_Block(config.width) for _ in range(config.blocks)])
        self.tail = _conv(config.width, config.factor * config.factor)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ModelError(f"super-resolution net expects (N, 1, H, W), got {shape}")
        f = self.config.factor
        base = F.interpolate(images, scale_factor=f, mode="bicubic", align_corners=False)
        features = F.leaky_relu(self.head(images), 0.1)
        features = features + self.body(features)
        return base + F.pixel_shuffle(self.tail(features), f)


# ---------------------------------------------------------------------------------------------
# Weight files: {"format", "task", "config", "state_dict"}; tensors stored as float16 (half the
# size; the nets run in float32 and the rounding costs far less than 0.01 dB).

CHECKPOINT_FORMAT = 1
_TASKS = {"restore": (TemporalRestoreNet, RestoreConfig), "sr": (SuperResNet, SRConfig),
          "interp": (InterpNet, InterpConfig)}


def save_checkpoint(path, task: str, model: nn.Module) -> None:
    state = {name: tensor.detach().to("cpu", torch.float16) for name, tensor in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "task": task, "config": model.config.to_dict(), "state_dict": state}, path)


def load_checkpoint(path, task: str, *, device="cpu") -> nn.Module:
    """Build the ``task`` network from a weights file, in eval mode, float32, on ``device``.
    Raises ModelError (one line) for a missing or unreadable file or weights that do not fit."""
    from pathlib import Path

    path = Path(path)
    if task not in _TASKS:
        raise ModelError(f"unknown model task {task!r} (known: {', '.join(_TASKS)})")
    if not path.is_file():
        raise ModelError(f"{path}: weights file not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem for a user
        raise ModelError(f"{path}: not a readable weights file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT or "state_dict" not in data:
        raise ModelError(f"{path}: not a weights file of this engine (format {CHECKPOINT_FORMAT})")
    if data.get("task") != task:
        raise ModelError(f"{path}: holds weights for task {data.get('task')!r}, not {task!r}")
    net_class, config_class = _TASKS[task]
    model = net_class(config_class.from_dict(data.get("config") or {}))
    expected = model.state_dict()
    given = data["state_dict"]
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    if missing or unexpected:
        name = (missing or unexpected)[0]
        raise ModelError(f"{path}: weights do not fit the {task} network ({'missing' if missing else 'unexpected'} {name})")
    for name, tensor in expected.items():
        if tuple(given[name].shape) != tuple(tensor.shape):
            raise ModelError(f"{path}: weights do not fit the {task} network ({name} has shape "
                             f"{tuple(given[name].shape)}, expected {tuple(tensor.shape)})")
    model.load_state_dict({name: tensor.float() for name, tensor in given.items()})
    return model.eval().to(device)
