"""Delivery options as the front door checks them: codec, target and preset, each error naming its field."""

from __future__ import annotations

import sys

import pytest

from restoration import api
from restoration.encode.codecs import DELIVERY_CODECS, PRESET_NAMES
from restoration.encode.targets import METRICS, parse_target
from restoration.errors import RestorationError
from restoration.x264 import cpu_has_avx512


def test_the_front_door_names_match_the_engine_tables():
    assert tuple(DELIVERY_CODECS) == api.DELIVERY_CODECS
    assert api.DELIVERY_METRICS == METRICS
    assert api.DELIVERY_PRESETS == PRESET_NAMES


@pytest.mark.parametrize(("text", "metric", "value"), [
    ("ssim:0.97", "ssim", 0.97), ("PSNR:40", "psnr", 40.0), (" xpsnr : 38.5 ", "xpsnr", 38.5),
])
def test_targets_parse(text, metric, value):
    target = parse_target(text)
    assert (target.metric, target.value) == (metric, value)


def test_options_are_normalised():
    assert api.encode_options_check("H264", "SSIM:0.970") == {"codec": "h264", "target": "ssim:0.97", "preset": "medium"}
    assert api.encode_options_check("av1", "psnr:40", "8")["preset"] == "8"
    assert api.encode_options_check("hevc", "xpsnr:38", "Slow")["preset"] == "slow"


@pytest.mark.parametrize(("codec", "target", "preset", "field"), [
    ("vp9", "ssim:0.97", None, "codec"),
    (None, "ssim:0.97", None, "codec"),
    ("h264", "vmaf:90", None, "target"),
    ("h264", "ssim", None, "target"),
    ("h264", "ssim:high", None, "target"),
    ("h264", "ssim:1", None, "target"),
    ("h264", "ssim:0", None, "target"),
    ("h264", "psnr:nan", None, "target"),
    ("h264", "psnr:500", None, "target"),
    ("h264", 0.97, None, "target"),
    ("h264", "ssim:0.97", "turbo", "preset"),
    ("h264", "ssim:0.97", "8", "preset"),  # SVT-AV1 numbers are for AV1 only
    ("av1", "ssim:0.97", "14", "preset"),
])
def test_bad_options_name_the_field(codec, target, preset, field):
    with pytest.raises(RestorationError, match=f"^{field}: "):
        api.encode_options_check(codec, target, preset)


def test_checking_options_loads_neither_torch_nor_pyav():
    import subprocess

    code = ("import sys, restoration.api as a; a.encode_options_check('h264', 'ssim:0.97');"
            "print('torch' in sys.modules, 'av' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize(("target", "inside", "outside"), [
    ("ssim:0.97", (0.97, 0.975), (0.9699, 0.9751)),
    ("psnr:40", (40.0, 40.5), (39.99, 40.51)),
    ("xpsnr:38", (38.0, 38.5), (37.9, 38.6)),
])
def test_a_target_is_kept_within_its_tolerance_only_from_above(target, inside, outside):
    parsed = parse_target(target)
    assert all(parsed.within_tolerance(quality) for quality in inside)
    assert not any(parsed.within_tolerance(quality) for quality in outside)


@pytest.mark.parametrize(("name", "option"), [("h264", "crf"), ("hevc", "crf")])
def test_x264_and_x265_take_a_fractional_crf_as_it_is(name, option):
    assert DELIVERY_CODECS[name].options(20.25, "medium")[option] == "20.25"


def test_svt_av1_takes_its_crf_through_its_own_parameters_up_to_70():
    options = DELIVERY_CODECS["av1"].options(66.75, "medium")
    assert options == {"svtav1-params": "crf=66.75", "preset": "8"} and DELIVERY_CODECS["av1"].crf_max == 70


@pytest.mark.parametrize(("name", "metric", "expected"), [
    ("h264", "ssim", {"tune": "ssim"}), ("h264", "psnr", {"tune": "psnr"}), ("h264", "xpsnr", {}),
    ("hevc", "ssim", {"tune": "ssim"}), ("hevc", "psnr", {"tune": "psnr"}), ("hevc", None, {}),
])
def test_x264_and_x265_are_tuned_for_the_targets_metric_where_they_have_a_tuning(name, metric, expected):
    options = DELIVERY_CODECS[name].options(20.0, "medium", metric)
    assert options == {**DELIVERY_CODECS[name].options(20.0, "medium"), **expected}


def test_svt_av1_is_tuned_through_its_own_parameters():
    assert DELIVERY_CODECS["av1"].options(40.5, "8", "ssim")["svtav1-params"] == "crf=40.5:tune=2"
    assert DELIVERY_CODECS["av1"].options(40.5, "8", "xpsnr")["svtav1-params"] == "crf=40.5"


def test_x264_keeps_its_stream_headers_stitchable_with_its_instruction_sets_capped_on_avx512():
    params = DELIVERY_CODECS["h264"].options(20.0, "medium")["x264-params"].split(":")
    assert params[0] == "stitchable=1" and ("asm=AVX2" in params) == cpu_has_avx512()
