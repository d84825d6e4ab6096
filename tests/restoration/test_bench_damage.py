"""The damage breakdown of the benchmark switches defects off with real degrade parameters."""

import torch

from restoration.bench.damage import ALL_OFF, DEFECTS
from restoration.degrade import degrade, sample_params


def test_every_defect_switched_off_gives_back_the_clean_clip():
    clean = torch.rand(4, 3, 24, 32)
    params = {**sample_params(7, "heavy"), **ALL_OFF}
    assert torch.allclose(degrade(clean, seed=7, params=params).damaged, clean, atol=1e-6)


def test_each_defect_alone_changes_the_clip():
    clean = torch.rand(4, 3, 120, 160) * 0.8 + 0.1  # defects scale with the frame: not too small
    heavy = sample_params(7, "heavy")
    assert heavy["compression"] != "none"
    for defect, switch in DEFECTS.items():
        if defect == "scratches":
            continue  # drawn per 16-frame block: a 4-frame clip may have none
        only = {**heavy, **ALL_OFF, **{key: heavy[key] for key in switch}}
        assert not torch.equal(degrade(clean, seed=7, params=only).damaged, clean), defect
