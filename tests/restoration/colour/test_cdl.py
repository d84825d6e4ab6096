import math

import numpy as np
import PyOpenColorIO as ocio
import pytest
import torch

from restoration.colour.cdl import IDENTITY_CDL, Cdl, CdlLayer, cdl_apply
from restoration.errors import SpecError
from tests.restoration.colour.ocio import ocio_apply

WARM = Cdl(slope=(1.2, 0.95, 0.8), offset=(0.02, -0.01, 0.03), power=(0.9, 1.1, 1.25), saturation=1.3)


def random_pixels(count: int = 4096, seed: int = 0) -> torch.Tensor:
    """(1, 3, 1, count) colours, with exact black, white and the clamps' edges among them."""
    gen = torch.Generator().manual_seed(seed)
    values = torch.rand(3, count, generator=gen, dtype=torch.float64) * 1.1 - 0.05
    values[:, :4] = torch.tensor([[0.0, 1.0, 0.5, 0.0], [0.0, 1.0, 0.5, 1.0], [0.0, 1.0, 0.5, 0.0]])
    return values.clamp(0, 1).view(1, 3, 1, count)


def test_values_by_hand():
    pixel = torch.tensor([0.5, 0.25, 0.8], dtype=torch.float64).view(1, 3, 1, 1)
    out = cdl_apply(pixel, WARM).flatten().tolist()
    sop = [min(max(x * s + o, 0.0), 1.0) ** p for x, s, o, p in zip(pixel.flatten().tolist(), WARM.slope, WARM.offset,
                                                                       WARM.power, strict=True)]
    luma = 0.2126 * sop[0] + 0.7152 * sop[1] + 0.0722 * sop[2]
    expected = [min(max(luma + 1.3 * (v - luma), 0.0), 1.0) for v in sop]
    assert out == pytest.approx(expected, abs=1e-12)


def test_identity_changes_nothing():
    pixels = random_pixels()
    assert torch.allclose(cdl_apply(pixels, IDENTITY_CDL), pixels, atol=1e-12)
    assert IDENTITY_CDL.is_identity and not WARM.is_identity


@pytest.mark.parametrize("cdl", [WARM, Cdl(slope=(0.7, 1.4, 1.0), offset=(0.1, -0.2, 0.0), power=(2.0, 0.5, 1.0),
                                           saturation=0.0), Cdl(saturation=2.5)])
def test_matches_opencolorio_asc_cdl(cdl):
    transform = ocio.CDLTransform()
    transform.setSlope(list(cdl.slope))
    transform.setOffset(list(cdl.offset))
    transform.setPower(list(cdl.power))
    transform.setSat(cdl.saturation)
    transform.setStyle(ocio.CDL_ASC)
    transform.setDirection(ocio.TRANSFORM_DIR_FORWARD)
    pixels = random_pixels()
    ours = cdl_apply(pixels.float(), cdl).view(3, -1).T.numpy()
    theirs = ocio_apply(transform, pixels.view(3, -1).T.numpy())
    assert np.abs(ours - theirs).max() < 1e-5


def test_grey_stays_grey_under_a_neutral_cdl_and_is_toned_by_a_coloured_one():
    grey = torch.linspace(0, 1, 16).view(1, 1, 4, 4)
    neutral = Cdl(slope=(1.1, 1.1, 1.1), offset=(0.01, 0.01, 0.01), power=(0.8, 0.8, 0.8), saturation=1.5)
    out = cdl_apply(grey, neutral)
    assert out.shape == grey.shape
    assert torch.allclose(out, cdl_apply(grey.expand(1, 3, 4, 4), neutral)[:, :1], atol=1e-6)
    sepia = Cdl(slope=(1.0, 0.9, 0.7), offset=(0.05, 0.02, 0.0))
    toned = cdl_apply(grey, sepia)
    assert toned.shape == (1, 3, 4, 4)
    assert bool((toned[:, 0] >= toned[:, 2]).all()) and float((toned[:, 0] - toned[:, 2]).max()) > 0.2


def test_module_equals_function_and_keeps_dtype():
    pixels = random_pixels(64)
    out = CdlLayer(WARM)(pixels)
    assert out.dtype == torch.float64 and torch.equal(out, cdl_apply(pixels, WARM))
    assert cdl_apply(pixels.float(), WARM).dtype == torch.float32


def test_round_trips_through_a_dict():
    assert Cdl.from_dict(WARM.to_dict()) == WARM


@pytest.mark.parametrize("fields, message", [
    ({"power": (1.0, 0.0, 1.0)}, "power must be above 0"),
    ({"slope": (1.0, math.nan, 1.0)}, "finite"),
    ({"offset": (0.0, 0.0)}, "three numbers"),
    ({"saturation": -0.1}, "saturation"),
    ({"saturation": math.inf}, "saturation"),
    ({"slope": (-1.0, 1.0, 1.0)}, "slope must be 0 or more"),
    ({"slope": "abc"}, "three numbers"),
])
def test_refuses_bad_values_with_a_clear_line(fields, message):
    with pytest.raises(SpecError, match=message):
        Cdl(**fields)


def test_refuses_unknown_fields_and_bad_frames():
    with pytest.raises(SpecError, match="unknown field 'gamma'"):
        Cdl.from_dict({"gamma": 1.0})
    with pytest.raises(SpecError, match="C 1 or 3"):
        cdl_apply(torch.zeros(1, 2, 4, 4), WARM)
