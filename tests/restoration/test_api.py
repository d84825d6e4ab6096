"""The engine's front door, as the web app uses it: files in, files and plain values out."""

from __future__ import annotations

import errno
import subprocess
import sys

import numpy as np
import pytest
import torch

from restoration import api
from restoration.degrade import clean_sources, synthetic_clip
from restoration.errors import RestorationError
from restoration.io import probe, read_frames, write_video
from restoration.op_registry import get_op
from restoration.pipeline import DEFAULT_PRESET, PRESETS


@pytest.fixture(scope="module")
def two_shot_clip(tmp_path_factory):
    """10 + 8 frames of two photographs under camera motion, 48x64, lossless."""
    photos = dict(clean_sources())
    first = synthetic_clip(photos["astronaut"], frames=10, size=(48, 64), seed=1)
    second = synthetic_clip(photos["coffee"], frames=8, size=(48, 64), seed=2, motion="zoom")
    path = tmp_path_factory.mktemp("api") / "two_shots.mkv"
    write_video(path, torch.cat([first, second]), fps=24)
    return path


def test_importing_the_front_door_leaves_torch_unloaded():
    code = "import sys, restoration.api, restoration.errors; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_preset_names_are_the_pipelines_presets():
    assert tuple(PRESETS) == api.PRESET_NAMES
    assert api.DEFAULT_PRESET == DEFAULT_PRESET


def test_analysing_given_spans_measures_what_the_detector_measured(two_shot_clip):
    found = api.analyse(two_shot_clip)
    assert found[0]["start_frame"] == 0 and found[-1]["end_frame"] == 17
    spans = [(shot["start_frame"], shot["end_frame"]) for shot in found]
    measured = api.analyse(two_shot_clip, spans=spans)
    assert [(shot["start_frame"], shot["end_frame"]) for shot in measured] == spans
    for detected, given in zip(found, measured, strict=True):
        assert given["metrics"] == pytest.approx(detected["metrics"], nan_ok=True)
        assert given["recommended_pipeline"] == detected["recommended_pipeline"]


@pytest.mark.parametrize("channels", [1, 3])
def test_frames_uint8_gives_the_frames_as_arrays(tmp_path, channels):
    frames = torch.rand(5, channels, 16, 24, generator=torch.Generator().manual_seed(channels))
    path = tmp_path / "clip.mkv"
    write_video(path, frames, fps=24)  # ffv1: lossless at 8 bits
    expected = (frames * 255.0 + 0.5).to(torch.uint8)
    chunks = list(api.frames_uint8(path, start=1, end=5, chunk_size=3))
    assert [first for first, _ in chunks] == [1, 4]
    arrays = [array for _, part in chunks for array in part]
    assert len(arrays) == 4
    for number, array in enumerate(arrays, start=1):
        assert array.dtype == np.uint8
        assert array.shape == ((16, 24) if channels == 1 else (16, 24, 3))
        want = expected[number].numpy()
        assert np.array_equal(array, want[0] if channels == 1 else want.transpose(1, 2, 0))


def test_clips_join_keeps_every_frame_at_the_deepest_bit_depth(tmp_path):
    shallow, deep = tmp_path / "a.mkv", tmp_path / "b.mkv"
    write_video(shallow, torch.rand(3, 3, 16, 16), fps=24)
    write_video(deep, torch.rand(4, 3, 16, 16), fps=24, bit_depth=16)
    seen = []
    info = api.clips_join([shallow, deep], tmp_path / "joined.mkv", fps=24, progress=lambda d, t: seen.append((d, t)))
    assert info.frame_count == 7 and info.bit_depth == 16
    assert seen[-1] == (7, 7)
    assert api.clips_join([shallow], tmp_path / "one.mkv", fps=24).bit_depth == 8


def test_transient_errors_are_the_ones_waiting_may_cure():
    assert api.is_transient_error(OSError(errno.ENOSPC, "No space left on device"))
    assert not api.is_transient_error(OSError(errno.ENOENT, "No such file"))
    assert not api.is_transient_error(ValueError("bad input"))


def test_restore_frames_with_the_clean_preset_reports_the_ops_it_ran(two_shot_clip, tmp_path):
    spec = api.preset_spec("clean")
    result = api.restore_frames(two_shot_clip, tmp_path / "clean.mkv", spec=spec, start=2, count=5, fps=24.0,
                                device="cpu")
    assert [step["op"] for step in result.spec["ops"]] == ["denoise", "dust", "scratch", "deflicker"]
    assert result.summary == "denoise → dust → scratch → deflicker (as specified)"
    assert (result.info.frame_count, result.info.width, result.info.height) == (5, 64, 48)


def test_restore_frames_with_the_film_preset_names_what_the_analysis_chose(two_shot_clip, tmp_path):
    result = api.restore_frames(two_shot_clip, tmp_path / "film.mkv", spec=api.preset_spec("film"), start=0,
                                count=6, fps=24.0, device="cpu")
    assert result.summary.endswith("(chosen by the analysis)")
    assert isinstance(result.spec["ops"], list)
    assert all(get_op(step["op"]) for step in result.spec["ops"])
    assert result.info.frame_count == 6
    # The spec that ran reproduces the output when run again.
    again = api.restore_frames(two_shot_clip, tmp_path / "again.mkv", spec=result.spec, start=0, count=6,
                               fps=24.0, device="cpu")
    assert np.array_equal(np.concatenate([a for _, part in api.frames_uint8(tmp_path / "film.mkv") for a in part]),
                          np.concatenate([a for _, part in api.frames_uint8(tmp_path / "again.mkv") for a in part]))
    assert again.summary.endswith("(as specified)")


@pytest.mark.parametrize("graded", [False, True])
def test_restore_frames_keeps_a_deep_source_s_depth(tmp_path, graded):
    """A 16-bit source (a 10-bit DPX scan reads as 16) gives a 16-bit version, graded or not:
    the codes between two 8-bit steps survive."""
    ramp = torch.linspace(0.25, 0.26, 64)[None, None, None, :].expand(3, 1, 48, 64).contiguous()
    write_video(tmp_path / "deep.mkv", ramp, fps=24.0, bit_depth=16)
    grade = api.grade_check({"slope": [1, 1, 1], "offset": [0, 0, 0], "power": [1, 1, 1], "saturation": 1}) \
        if graded else None
    result = api.restore_frames(tmp_path / "deep.mkv", tmp_path / "out.mkv", spec={"ops": []}, start=0, count=3,
                                fps=24.0, device="cpu", grade=grade)
    assert result.info.bit_depth == 16
    codes = (read_frames(tmp_path / "out.mkv")[0, 0, 0] * 65535).round().unique()
    assert len(codes) > 20  # an 8-bit step would leave about 3


def test_demo_scan_write_cuts_the_shots_end_to_end(tmp_path):
    shots = [api.DemoShot("camera", 3, "pan", "light"), api.DemoShot("not-a-photograph", 4, "shake", "heavy")]
    seen = []
    cuts = api.demo_scan_write(tmp_path / "scan.mkv", shots=shots, size=(32, 32), fps=24.0,
                               progress=lambda done, total: seen.append((done, total)))
    assert cuts == [(0, 2), (3, 6)]
    assert seen == [(3, 7), (7, 7)]
    info = probe(tmp_path / "scan.mkv")
    assert (info.frame_count, info.width, info.height, info.channels) == (7, 32, 32, 3)
    again = api.demo_scan_write(tmp_path / "again.mkv", shots=shots, size=(32, 32), fps=24.0)
    assert again == cuts
    assert np.array_equal(np.stack([a for _, part in api.frames_uint8(tmp_path / "scan.mkv") for a in part]),
                          np.stack([a for _, part in api.frames_uint8(tmp_path / "again.mkv") for a in part]))


@pytest.mark.parametrize("kind", api.CLIP_KINDS)
def test_synthetic_clip_write_gives_a_clip_of_the_asked_size(tmp_path, kind):
    info = api.synthetic_clip_write(tmp_path / f"{kind}.mkv", kind=kind, frames=4, height=24, width=40, seed=3,
                                    fps=25.0, codec="ffv1")
    assert (info.frame_count, info.height, info.width, info.channels, info.codec) == (4, 24, 40, 3, "ffv1")
    assert info.fps == pytest.approx(25.0)
    frames = np.stack([a for _, part in api.frames_uint8(tmp_path / f"{kind}.mkv") for a in part])
    assert not np.array_equal(frames[0], frames[1])  # every frame differs
    with pytest.raises(RestorationError, match="kind must be one of noise, moving_texture"):
        api.synthetic_clip_write(tmp_path / "x.mkv", kind="stripes", frames=1, height=8, width=8)


def test_a_moving_texture_moves_by_its_shift(tmp_path):
    api.synthetic_clip_write(tmp_path / "t.mkv", kind="moving_texture", frames=2, height=32, width=48, shift_px=2)
    first, second = (a for _, part in api.frames_uint8(tmp_path / "t.mkv") for a in part)
    assert np.array_equal(np.roll(first, shift=(2, 4), axis=(0, 1)), second)
