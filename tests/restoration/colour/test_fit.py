"""Learning a grade from misregistered, 8-bit, compressed reference stills."""

import numpy as np
import pytest
import torch

from restoration.colour.cdl import IDENTITY_CDL, cdl_apply
from restoration.colour.fit import FAST_CDL, PRECISE_CDL, delta_e_2000, fit_cdl, grade_fit, register_still
from restoration.colour.grade import grade_apply
from restoration.colour.references import KNOWN_CDL, known_look, reference_still
from restoration.degrade import clean_sources, synthetic_clip
from restoration.errors import RestorationError

REFERENCE_FRAMES = (0, 4, 8)


@pytest.fixture(scope="module")
def graded_clip():
    """A photograph under camera motion and the same frames with a known look (CDL + a twist)."""
    clip = synthetic_clip(dict(clean_sources())["coffee"], frames=10, size=(96, 128), seed=1, motion="pan")
    return clip, known_look(clip)


def _mean_delta_e(frames: torch.Tensor, target: torch.Tensor) -> float:
    pixels = lambda x: x.permute(0, 2, 3, 1).reshape(-1, 3).numpy()  # noqa: E731
    return float(np.mean(delta_e_2000(pixels(frames), pixels(target))))


def test_registration_finds_the_shift_and_scale_of_another_transfer(graded_clip):
    clip, target = graded_clip
    registration = register_still(clip[2], reference_still(target[2], shift=(3.0, -2.0), zoom=1.03))
    # Frame point q shows at still point centre + 1.03 (q - centre) - 1.03 (3, -2).
    assert registration.scale == pytest.approx(1.03, abs=0.005)
    assert registration.shift == pytest.approx((-3.09, 2.06), abs=0.3)
    assert registration.score > 0.5


def test_a_grade_fitted_on_three_stills_holds_on_frames_it_never_saw(graded_clip):
    clip, target = graded_clip
    pairs = [(clip[i], reference_still(target[i])) for i in REFERENCE_FRAMES]
    grade, report = grade_fit(pairs, labels=[f"frame {i}" for i in REFERENCE_FRAMES])
    unseen = [i for i in range(clip.shape[0]) if i not in REFERENCE_FRAMES]
    error = _mean_delta_e(grade_apply(clip[unseen], grade), target[unseen])
    assert error < 1.5
    assert error < 0.2 * _mean_delta_e(clip[unseen], target[unseen])  # far better than no grade
    assert report["holdout"]["cdl"]["mean"] < 4.0 and report["fit"]["mean"] < 1.5
    assert grade.cdl.slope[0] > grade.cdl.slope[2]  # warm, as KNOWN_CDL
    assert KNOWN_CDL.slope[0] > KNOWN_CDL.slope[2]


def test_unrelated_or_reframed_stills_are_refused(graded_clip):
    clip, target = graded_clip
    noise = torch.rand(3, 96, 128, generator=torch.Generator().manual_seed(3))
    with pytest.raises(RestorationError, match="cannot be registered"):
        register_still(clip[1], noise)
    with pytest.raises(RestorationError, match="aspect"):
        register_still(clip[1], target[1][:, :, :96])  # square: another framing
    with pytest.raises(RestorationError, match="frame 4: still cannot be registered"):
        grade_fit([(clip[0], reference_still(target[0])), (clip[4], noise)], labels=["frame 0", "frame 4"])


@pytest.mark.parametrize("settings", [FAST_CDL, PRECISE_CDL], ids=["fast", "precise"])
@pytest.mark.parametrize("start", [None, IDENTITY_CDL], ids=["own start", "warm start"])
def test_fit_cdl_recovers_a_known_cdl(settings, start):
    source = torch.rand(20000, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 0.8 + 0.1
    target = cdl_apply(source.T.reshape(1, 3, 1, -1), KNOWN_CDL).reshape(3, -1).T
    cdl = fit_cdl(source, target, settings=settings, start=start)
    fitted = cdl_apply(source.T.reshape(1, 3, 1, -1), cdl).reshape(3, -1).T
    assert float(np.mean(delta_e_2000(fitted, target))) < 0.1
    assert cdl.slope == pytest.approx(KNOWN_CDL.slope, abs=0.03)
    assert cdl.saturation == pytest.approx(KNOWN_CDL.saturation, abs=0.03)

