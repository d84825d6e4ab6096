"""The CRF search on made-up quality curves (no encoder): it lands on a passing CRF within the
target's tolerance (or the highest passing one), inside the codec's CRF range and on its
grid, in a few encodes; it marks a shot capped at the highest CRF, and says when no CRF reaches
the target."""

from __future__ import annotations

import math

import pytest

from restoration.encode.codecs import DELIVERY_CODECS
from restoration.encode.search import MAX_ENCODES, MAX_ENCODES_OUTSIDE_TOLERANCE, search_crf
from restoration.encode.targets import parse_target


def ssim_curve(at_zero_db: float, db_per_crf: float):
    """A quality curve straight on the search's SSIM-dB scale: -10 log10(1 - SSIM) = a - b * crf."""
    return lambda crf: 1.0 - 10.0 ** (-(at_zero_db - db_per_crf * crf) / 10.0)


def psnr_curve(at_zero: float, per_crf: float, bend: float = 0.0):
    return lambda crf: at_zero - per_crf * crf - bend * crf * crf


def grid(codec):
    steps = round((codec.crf_max - codec.crf_min) / codec.crf_step)
    return [codec.crf_min + i * codec.crf_step for i in range(steps + 1)]


def highest_passing(codec, curve, value):
    passing = [crf for crf in grid(codec) if curve(crf) >= value]
    return max(passing) if passing else None


def counted(curve):
    calls = []

    def encode(crf):
        calls.append(crf)
        return curve(crf)

    return encode, calls


def assert_lands_right(result, calls, codec, curve, target):
    """Passing; within the tolerance above the target unless the next grid CRF up fails (the curve
    jumps there) or the shot is capped; never the same CRF twice; on the grid, inside the range."""
    highest = highest_passing(codec, curve, target.value)
    assert result.crf is not None and curve(result.crf) >= target.value
    assert target.within_tolerance(curve(result.crf)) or result.crf == highest
    if target.within_tolerance(curve(result.crf)) and result.crf != highest:
        failed_above = [trial.crf for trial in result.trials if trial.crf > result.crf]
        assert failed_above and min(failed_above) - result.crf <= codec.crf_settle
    assert result.capped == (result.crf == codec.crf_max)
    assert len(calls) == len(set(calls)) <= MAX_ENCODES_OUTSIDE_TOLERANCE
    assert all(codec.crf_min <= crf <= codec.crf_max and (crf / codec.crf_step).is_integer() for crf in calls)
    assert [trial.crf for trial in result.trials] == calls


@pytest.mark.parametrize("codec_name", ["h264", "hevc", "av1"])
@pytest.mark.parametrize(("curve", "target"), [
    (ssim_curve(30.0, 0.5), "ssim:0.97"),
    (ssim_curve(40.0, 0.9), "ssim:0.98"),
    (psnr_curve(55.0, 0.6), "psnr:40"),
    (psnr_curve(60.0, 0.3, bend=0.006), "xpsnr:38"),  # curved: the secant is only a guess
    (psnr_curve(80.0, 2.1), "psnr:40"),  # steep: one settle step (0.5 or 1 CRF) is more than 0.5 dB
])
def test_lands_within_tolerance_above_the_target_of_a_monotone_curve(codec_name, curve, target):
    codec = DELIVERY_CODECS[codec_name]
    quality_target = parse_target(target)
    encode, calls = counted(curve)
    result = search_crf(encode, codec, quality_target)
    assert_lands_right(result, calls, codec, curve, quality_target)
    assert quality_target.within_tolerance(curve(result.crf))


@pytest.mark.parametrize("codec_name", ["h264", "hevc", "av1"])
@pytest.mark.parametrize(("curve", "target"), [
    (ssim_curve(30.0, 0.5), "ssim:0.97"),
    (ssim_curve(31.3, 0.37), "ssim:0.97"),
    (psnr_curve(55.0, 0.6), "psnr:40"),
    (psnr_curve(52.1, 0.43), "psnr:40"),
])
def test_on_a_straight_line_it_finds_the_highest_passing_crf_on_the_grid(codec_name, curve, target):
    """Within tolerance it stops early only where the line through the bracket's ends says no grid
    CRF above passes: on a straight line that is never wrong."""
    codec = DELIVERY_CODECS[codec_name]
    encode, calls = counted(curve)
    result = search_crf(encode, codec, parse_target(target))
    assert result.crf == highest_passing(codec, curve, parse_target(target).value)
    assert len(calls) <= MAX_ENCODES


@pytest.mark.parametrize(("codec_name", "curve", "highest"), [
    ("h264", psnr_curve(50.0, 0.3, bend=0.002), 28.0),
    ("h264", psnr_curve(50.0, 0.3, bend=0.008), 21.25),
    ("av1", psnr_curve(65.0, 0.5, bend=0.008), 32.75),
])
def test_within_tolerance_one_more_encode_where_the_bracket_line_says_a_higher_crf_passes(codec_name, curve, highest):
    """Curved lines where the search, within tolerance with a bracket of the settle width, would
    stop a grid step short; the line through the bracket's ends says that step passes, so it tries it."""
    codec = DELIVERY_CODECS[codec_name]
    encode, calls = counted(curve)
    result = search_crf(encode, codec, parse_target("psnr:40"))
    assert result.crf == highest == highest_passing(codec, curve, 40.0)
    assert len(calls) <= MAX_ENCODES


@pytest.mark.parametrize("codec_name", ["h264", "av1"])
def test_exact_finds_the_highest_passing_crf_on_the_grid(codec_name):
    codec = DELIVERY_CODECS[codec_name]
    curve = ssim_curve(30.0, 0.5)
    encode, calls = counted(curve)
    result = search_crf(encode, codec, parse_target("ssim:0.97"), exact=True)
    assert result.crf == highest_passing(codec, curve, 0.97)
    assert result.crf + codec.crf_step in calls  # the grid step above was tried and failed


def test_a_steep_curve_is_refined_below_the_settle_step_only_when_needed():
    codec = DELIVERY_CODECS["h264"]
    steep = psnr_curve(80.2, 2.1)  # 0.5 CRF = 1.05 dB: the settle step alone may miss the tolerance
    encode, calls = counted(steep)
    result = search_crf(encode, codec, parse_target("psnr:40"))
    assert parse_target("psnr:40").within_tolerance(steep(result.crf))
    gentle = ssim_curve(30.0, 0.45)  # 0.5 CRF = 0.23 SSIM-dB: the settle step is within tolerance
    encode, gentle_calls = counted(gentle)
    result = search_crf(encode, codec, parse_target("ssim:0.97"))
    assert parse_target("ssim:0.97").within_tolerance(gentle(result.crf)) and len(gentle_calls) <= MAX_ENCODES


def test_a_straight_line_on_the_ssim_db_scale_takes_few_encodes():
    codec = DELIVERY_CODECS["h264"]
    encodes = []
    for at_zero, slope in ((25.0, 0.3), (30.0, 0.45), (35.0, 0.6), (28.0, 0.25)):
        encode, calls = counted(ssim_curve(at_zero, slope))
        search_crf(encode, codec, parse_target("ssim:0.97"))
        encodes.append(len(calls))
    assert max(encodes) <= 4


@pytest.mark.parametrize(("codec_name", "top"), [("h264", 51.0), ("hevc", 51.0), ("av1", 70.0)])
def test_an_easy_shot_stops_capped_at_the_codecs_highest_crf(codec_name, top):
    codec = DELIVERY_CODECS[codec_name]
    assert codec.crf_max == top  # the encoder's whole range: x264/x265 0..51, SVT-AV1 up to 70
    encode, calls = counted(lambda crf: 0.999)
    result = search_crf(encode, codec, parse_target("ssim:0.97"))
    assert result.crf == top and result.capped
    assert len(calls) <= 3 and max(calls) == top


def test_a_shot_reaching_the_target_just_below_the_top_is_not_capped():
    codec = DELIVERY_CODECS["av1"]
    curve = psnr_curve(75.0, 0.5)  # 40.0 dB at CRF 70, 39.875 at 70.25 (out of range)
    encode, calls = counted(curve)
    result = search_crf(encode, codec, parse_target("psnr:40.1"))
    assert 69 <= result.crf < 70 and not result.capped and 70.0 in calls


def test_an_unreachable_target_tries_the_lowest_crf_and_finds_none():
    codec = DELIVERY_CODECS["hevc"]
    curve = psnr_curve(35.0, 0.4)  # 35 dB at best
    encode, calls = counted(curve)
    result = search_crf(encode, codec, parse_target("psnr:40"))
    assert result.crf is None
    assert codec.crf_min in calls
    assert result.best().crf == codec.crf_min and math.isclose(result.best().quality, 35.0)


def test_a_warm_start_far_off_still_ends_right():
    codec = DELIVERY_CODECS["h264"]
    curve = ssim_curve(32.0, 0.5)
    encode, _ = counted(curve)
    result = search_crf(encode, codec, parse_target("ssim:0.97"), start=50.0)
    assert result.crf == highest_passing(codec, curve, 0.97)
