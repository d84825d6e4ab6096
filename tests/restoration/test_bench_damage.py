"""The damage breakdown of the benchmark switches defects off with real degrade parameters."""

import torch

from restoration.bench.damage import ALL_OFF, DEFECTS, _only
from restoration.degrade import degrade, sample_params


def test_every_defect_switched_off_gives_back_the_clean_clip():
    clean = torch.rand(4, 3, 24, 32)
    params = {**sample_params(7, "heavy"), **ALL_OFF}
    assert torch.allclose(degrade(clean, seed=7, params=params).damaged, clean, atol=1e-6)


def test_each_defect_alone_changes_the_clip():
    clean = torch.rand(4, 3, 120, 160) * 0.8 + 0.1  # defects scale with the frame: not too small
    heavy = sample_params(7, "heavy")
    assert heavy["compression"] != "none"
    for defect in DEFECTS:
        if defect == "scratches":
            continue  # drawn per 16-frame block: a 4-frame clip may have none
        assert not torch.equal(degrade(clean, seed=7, params=_only(heavy, [defect])).damaged, clean), defect


def _laplacian_energy(frames: torch.Tensor) -> float:
    lap = 4 * frames[..., 1:-1, 1:-1] - frames[..., :-2, 1:-1] - frames[..., 2:, 1:-1] - frames[..., 1:-1, :-2] - frames[..., 1:-1, 2:]
    return float(lap.abs().mean())


def test_the_diagnostic_variants_split_global_from_local_damage():
    from restoration.bench.damage import VARIANTS, _variant_damage

    clean = torch.full((6, 3, 96, 128), 0.5)  # flat grey: weave cannot show, only tone and local defects
    params = {**sample_params(11, "heavy"), "seed": 11}
    damage = _variant_damage(clean, 11, params)
    assert set(damage) == set(VARIANTS)
    identifiable = damage["without colour fading and gate weave"]
    global_only = damage["only colour fading, gate weave and flicker: every local defect gone"]
    # Local defects (grain, dust, scratches) are sharp; flicker and fading are smooth per frame.
    assert _laplacian_energy(identifiable) > 10 * _laplacian_energy(global_only)
    assert not torch.allclose(global_only, clean, atol=0.01)
    # Fading tints the grey (a per-channel cast); without it the channels keep one mean.
    channel_means = lambda clip: clip.mean(dim=(0, 2, 3))  # noqa: E731
    assert float(channel_means(global_only).std()) > 0.005
    assert float(channel_means(identifiable).std()) < 0.002
