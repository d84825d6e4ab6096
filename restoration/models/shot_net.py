"""The learned shot-boundary detector: a small temporal 1-D conv net over the classical cues.

``ShotDetector.features()`` (``restoration.analysis.shots``) gives per frame the classical cues
(distances to the frames before, dissolve and wipe fits at several endpoint distances, luma
level and spread, gradient anisotropy, burnt share, histogram distances). ``ShotNet`` reads them
(standardised with the training set's mean and spread, stored in the weights) through residual
blocks of dilated 3-tap convolutions (a receptive field of about 130 frames: a 60-frame dissolve
and the shot either side) and predicts per frame:

- the probability that the frame is a boundary's reported frame (a cut's first new frame, a
  dissolve's or wipe's middle, a fade's black or white point);
- the boundary's type (cut, dissolve, wipe, fade);
- its span: frames from its start to the reported frame and from it to its end (log scale).

``decode`` turns that into boundaries ``(type, frame, start_frame, end_frame)``: peaks above
``THRESHOLD``, strongest first, each kept unless it falls within a kept one's span (or a frame of
a kept cut). ``restoration.analysis.shots`` runs it (``detect_transitions(..., method="learned")``,
and in the default ``"combined"`` method, where it corrects the rules where it is sure);
the weights are trained by ``restoration.analysis.shot_training`` (``python -m restoration train
--task shots``). This module knows nothing of frames: the cues' names come with the weights.
"""

from __future__ import annotations

import pickle
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from restoration.errors import ModelError

TYPES = ("cut", "dissolve", "wipe", "fade")
THRESHOLD = 0.5
EDGE_SHARE = 0.75  # a cut further than this share of a gradual transition's half-span from its frame is kept
WEIGHTS = Path(__file__).resolve().parent / "weights" / "shots.pt"


Boundary = tuple[str, int, int, int]  # (type, frame, start_frame, end_frame)


@dataclass(frozen=True)
class ShotNetConfig:
    features: int
    width: int = 40
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 1)


class _Block(nn.Module):
    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.first = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation)
        self.second = nn.Conv1d(width, width, 3, padding=1)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.second(self.act(self.first(self.act(x))))


class ShotNet(nn.Module):
    """(B, F, T) cues -> (B, 1 + len(TYPES) + 2, T): boundary logit, type logits, log1p span."""

    def __init__(self, config: ShotNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or ShotNetConfig()
        c = self.config
        self.register_buffer("feature_mean", torch.zeros(c.features))
        self.register_buffer("feature_std", torch.ones(c.features))
        self.inp = nn.Conv1d(c.features, c.width, 1)
        self.blocks = nn.Sequential(*(_Block(c.width, d) for d in c.dilations))
        self.out = nn.Conv1d(c.width, 1 + len(TYPES) + 2, 1)

    def forward(self, cues: torch.Tensor) -> torch.Tensor:
        x = (cues - self.feature_mean[:, None]) / self.feature_std[:, None]
        return self.out(torch.nn.functional.gelu(self.blocks(self.inp(x))))


def save_shot_net(net: ShotNet, path: Path, feature_names: tuple[str, ...]) -> None:
    """float16 weights (half the size; the net runs in float32), config and the cues' names."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    torch.save({"config": asdict(net.config), "feature_names": list(feature_names), "state": state}, path)


@cache
def load_shot_net(path: Path, feature_names: tuple[str, ...]) -> ShotNet:
    """The trained net from ``path`` (cached), for cues named ``feature_names``; a missing or
    unfit file, or one trained on other cues, is a ModelError."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if checkpoint["feature_names"] != list(feature_names):
            raise ModelError(f"{path} was trained on other shot cues than ShotDetector.features() gives")
        config = checkpoint["config"]
        net = ShotNet(ShotNetConfig(**{**config, "dilations": tuple(config["dilations"])}))
        net.load_state_dict({k: v.float() for k, v in checkpoint["state"].items()})
    except ModelError:
        raise
    except (OSError, KeyError, RuntimeError, TypeError, ValueError, pickle.UnpicklingError) as exc:
        raise ModelError(f"cannot load the shot detector's weights {path}: {exc}") from exc
    return net.eval()


def predict(net: ShotNet, cues: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: boundary probability (T,), type probabilities (T, 4), span before/after (T, 2)."""
    with torch.no_grad():
        out = net(torch.from_numpy(cues).T[None].float())[0]
    probability = torch.sigmoid(out[0]).numpy()
    types = torch.softmax(out[1 : 1 + len(TYPES)], 0).T.numpy()
    span = torch.expm1(out[1 + len(TYPES) :].clamp(0, 5)).T.numpy()
    return probability, types, span


def decode(probability: np.ndarray, types: np.ndarray, span: np.ndarray,
           threshold: float = THRESHOLD) -> list[Boundary]:
    """Transitions from the net's per-frame outputs, in frame order (none at the first two frames
    or the last one: a one-frame shot there cannot be told from damage).

    Peaks at or above ``threshold``, strongest first; each is kept unless it lies within a frame of
    a kept one, a gradual transition's span holds a kept one's frame or its frame lies in a kept
    gradual one's span, or a cut lies in the inner part of a kept gradual transition's span
    (within ``EDGE_SHARE`` of the way from its frame to the span's end: further out, a cut right
    after a transition is a boundary of its own, as the net's spans are estimates). A kept cut
    inside a gradual transition's span, away from its frame, ends the span there."""
    n = len(probability)
    peaks = [t for t in range(2, n - 1) if probability[t] >= threshold
             and probability[t] >= probability[t - 1] and probability[t] > probability[t + 1]]
    kept: list[Boundary] = []

    def in_gradual(t: int, frame: int, first: int, last: int) -> bool:
        reach = last - frame if t > frame else frame - first
        return first <= t <= last and abs(t - frame) < EDGE_SHARE * reach

    for t in sorted(peaks, key=lambda f: -probability[f]):
        kind = TYPES[int(types[max(0, t - 1) : t + 2].mean(0).argmax())]
        if kind == "cut":
            start, end = t, t
        else:
            before, after = (int(round(v)) for v in span[t])
            start, end = max(0, t - max(before, 1)), min(n - 1, t + max(after, 1))
            for other, frame, _, _ in kept:
                if other == "cut" and start <= frame <= end and abs(frame - t) > 1:
                    start, end = (start, frame - 1) if frame > t else (frame + 1, end)
        if any(abs(t - frame) <= 1 or (kind != "cut" and start <= frame <= end)
               or (other != "cut" and (in_gradual(t, frame, first, last) if kind == "cut" else first <= t <= last))
               for other, frame, first, last in kept):
            continue
        kept.append((kind, t, start, end))
    return sorted(kept, key=lambda k: k[1])
