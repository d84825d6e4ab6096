"""The damage model's randomness: a draw depends on its keys only, so chunks of a clip agree."""

from __future__ import annotations

import torch

from restoration.degrade.randomness import gamma, keyed_generator, normal, poisson, smooth_signal, uniform


def test_a_draw_depends_on_its_keys_only():
    def draws(*keys):
        gen = keyed_generator(*keys)
        return uniform(gen), normal(gen), poisson(gen, 3.0), gamma(gen, 1.3, 2.0), torch.rand(3, generator=gen).tolist()

    assert draws(7, 4, 120) == draws(7, 4, 120)
    assert draws(7, 4, 120) != draws(7, 4, 121) != draws(8, 4, 120)
    assert poisson(keyed_generator(1), 0.0) == 0


def test_a_smooth_signal_is_computed_frame_by_frame_and_changes_slowly():
    values = [smooth_signal(3, 4, 0, frame, 8.0) for frame in range(40)]
    assert values == [smooth_signal(3, 4, 0, frame, 8.0) for frame in range(40)]
    steps = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    assert max(steps) < 0.25 * (max(values) - min(values))  # knots 8 frames apart: no jumps
