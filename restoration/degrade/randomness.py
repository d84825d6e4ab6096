"""Randomness of the damage model: every draw comes from a generator keyed by (seed, component,
frame or block, ...), so any frame's damage can be computed on its own and chunks agree.

Random numbers are drawn on the CPU, so results are the same on every device.
"""

from __future__ import annotations

import math

import numpy as np
import torch

# Tags that keep the random streams of different components apart.
STREAM_TAGS = {
    "clip": 1, "blur": 2, "weave": 3, "flicker": 4, "grain": 5, "dust": 6, "hair": 7,
    "scratch": 8, "texture": 9, "jpeg": 10, "fade": 11, "motion": 12,
}


def keyed_generator(seed: int, *keys: int) -> torch.Generator:
    entropy = [int(seed) % 2**63] + [int(k) % 2**63 for k in keys]
    state = np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 31 ^ int(state[1]))


def uniform(gen: torch.Generator, low: float = 0.0, high: float = 1.0) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen))


def normal(gen: torch.Generator) -> float:
    return float(torch.randn((), generator=gen))


def poisson(gen: torch.Generator, rate: float) -> int:
    return int(torch.poisson(torch.tensor(float(rate)), generator=gen)) if rate > 0 else 0


def gamma(gen: torch.Generator, shape: float, scale: float) -> float:
    # torch's gamma sampler takes no generator: Marsaglia-Tsang from our own normals/uniforms.
    boost = 1.0
    if shape < 1:
        boost = uniform(gen) ** (1 / shape)
        shape += 1
    d = shape - 1 / 3
    c = 1 / math.sqrt(9 * d)
    while True:
        x = normal(gen)
        v = (1 + c * x) ** 3
        if v > 0 and math.log(max(uniform(gen), 1e-12)) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * scale * boost


def smooth_signal(seed: int, tag: int, channel: int, frame: int, knot_spacing: float) -> float:
    """Smooth random function of the frame number (Catmull-Rom through N(0,1) knots), unit scale,
    computable for any frame on its own (so chunks agree)."""
    position = frame / knot_spacing
    k = math.floor(position)
    t = position - k
    p0, p1, p2, p3 = (normal(keyed_generator(seed, tag, channel, k + i)) for i in (-1, 0, 1, 2))
    return 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
