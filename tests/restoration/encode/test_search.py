"""The CRF search on made-up quality curves (no encoder): it finds the highest passing CRF of a
monotone curve in a few encodes, and says when no CRF reaches the target."""

from __future__ import annotations

import math

import pytest

from restoration.encode.codecs import DELIVERY_CODECS
from restoration.encode.search import MAX_ENCODES, search_crf
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


@pytest.mark.parametrize("codec_name", ["h264", "hevc", "av1"])
@pytest.mark.parametrize(("curve", "target"), [
    (ssim_curve(30.0, 0.5), "ssim:0.97"),
    (ssim_curve(40.0, 0.9), "ssim:0.98"),
    (psnr_curve(55.0, 0.6), "psnr:40"),
    (psnr_curve(60.0, 0.3, bend=0.006), "xpsnr:38"),  # curved: the secant is only a guess
])
def test_finds_the_highest_passing_crf_of_a_monotone_curve(codec_name, curve, target):
    codec = DELIVERY_CODECS[codec_name]
    quality_target = parse_target(target)
    encode, calls = counted(curve)
    result = search_crf(encode, codec, quality_target)
    assert result.crf == highest_passing(codec, curve, quality_target.value)
    assert curve(result.crf) >= quality_target.value
    assert len(calls) == len(set(calls)) <= MAX_ENCODES  # never the same CRF twice
    assert [trial.crf for trial in result.trials] == calls


def test_a_straight_line_on_the_ssim_db_scale_takes_few_encodes():
    codec = DELIVERY_CODECS["h264"]
    encodes = []
    for at_zero, slope in ((25.0, 0.3), (30.0, 0.45), (35.0, 0.6), (28.0, 0.25)):
        encode, calls = counted(ssim_curve(at_zero, slope))
        search_crf(encode, codec, parse_target("ssim:0.97"))
        encodes.append(len(calls))
    assert max(encodes) <= 4


def test_an_easy_shot_stops_at_the_highest_crf():
    codec = DELIVERY_CODECS["av1"]
    encode, calls = counted(lambda crf: 0.999)
    result = search_crf(encode, codec, parse_target("ssim:0.97"))
    assert result.crf == codec.crf_max
    assert len(calls) <= 3


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
