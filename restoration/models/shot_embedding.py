"""A learned frame-pair similarity for the shot detector: a small CNN embedding of each frame.

In low-contrast pictures under heavy damage, grain, dust and flicker change consecutive frames
of one shot as much as a cut changes them, and ``1 - correlation`` of the detector's 24x32
thumbnails cannot tell the two apart. ``FrameEmbedding`` maps a 48x64 luma thumbnail, normalised
by its own mean and spread (so flicker and low contrast do not matter), to a unit vector; it is
trained (``restoration.analysis.shot_training.train_frame_embedding``, ``python -m restoration
train --task shot-embedding``) so that two frames of one shot 1-4 frames apart, under the damage,
lie close, and two frames 1-4 apart across a cut lie far apart. ``ShotDetector`` stores the
distance ``1 - cos`` between frames 1-4 apart; its cut strength backs the learned detector's
cuts it is unsure of (``ShotDetector.combined_transitions``).
"""

from __future__ import annotations

import pickle
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from restoration.errors import ModelError

EMBEDDING_THUMB_SIZE = (48, 64)
FLAT_STD = 1e-3  # a blank thumbnail is not scaled up into noise
WEIGHTS = Path(__file__).resolve().parent / "weights" / "shot_embedding.pt"


@dataclass(frozen=True)
class FrameEmbeddingConfig:
    width: int = 16
    dim: int = 32


class FrameEmbedding(nn.Module):
    """(N, 48, 64) luma thumbnails -> (N, dim) unit vectors: four stride-2 3x3 convolutions
    (to 3x4 cells, so the picture's layout counts: a jump to a new framing of one photograph
    is a cut) and a linear map of the cells."""

    def __init__(self, config: FrameEmbeddingConfig | None = None) -> None:
        super().__init__()
        self.config = config or FrameEmbeddingConfig()
        w = self.config.width
        widths = (1, w, 2 * w, 4 * w, 4 * w)
        layers: list[nn.Module] = []
        for before, after in zip(widths, widths[1:], strict=False):
            layers += [nn.Conv2d(before, after, 3, stride=2, padding=1), nn.GELU()]
        self.features = nn.Sequential(*layers)
        cells = (EMBEDDING_THUMB_SIZE[0] // 16) * (EMBEDDING_THUMB_SIZE[1] // 16)
        self.head = nn.Linear(widths[-1] * cells, self.config.dim)

    def forward(self, thumbs: torch.Tensor) -> torch.Tensor:
        x = thumbs - thumbs.mean((1, 2), keepdim=True)
        x = x / x.std((1, 2), keepdim=True).clamp_min(FLAT_STD)
        return F.normalize(self.head(self.features(x[:, None]).flatten(1)), dim=-1)


def save_frame_embedding(net: FrameEmbedding, path: Path) -> None:
    """float16 weights (the net runs in float32) and config."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    torch.save({"config": asdict(net.config), "state": state}, path)


@cache
def load_frame_embedding(path: Path = WEIGHTS) -> FrameEmbedding:
    """The trained embedding from ``path`` (cached); a missing or unfit file is a ModelError."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        net = FrameEmbedding(FrameEmbeddingConfig(**checkpoint["config"]))
        net.load_state_dict({k: v.float() for k, v in checkpoint["state"].items()})
    except (OSError, KeyError, RuntimeError, TypeError, ValueError, pickle.UnpicklingError) as exc:
        raise ModelError(f"cannot load the shot detector's frame embedding {path}: {exc}") from exc
    return net.eval()


def frame_embeddings(thumbs: torch.Tensor, path: Path = WEIGHTS) -> torch.Tensor:
    """(N, 48, 64) luma thumbnails -> (N, dim) float32 unit vectors, by the weights at ``path``."""
    net = load_frame_embedding(path)
    with torch.no_grad():
        return net(thumbs.float())


def embedding_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``1 - cos`` (N,) between unit vectors a, b (N, dim): 0 for one picture, about 1 and more across a cut."""
    return 1.0 - (a * b).sum(-1)
