"""The CLI on image sequences: probe, analyse, restore (to a sequence at the source's numbers and
depth, or to a video file), degrade; the depth kept through the pipeline; bad input -> one line,
exit 2, nothing written."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tifffile
import torch

from restoration import io
from restoration.cli import main
from restoration.colour.grade import Grade, grade_apply, grade_save
from restoration.sequence import dpx
from restoration.sequence.formats import read_values

from .conftest import gradient_codes, write_dpx_frames

NO_OP = {"ops": [{"op": "levels"}]}
LIGHT = {"ops": [{"op": "levels", "params": {"gamma": 1.1}}]}


def _spec(tmp_path, spec) -> str:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


def _distinct_codes(values: np.ndarray) -> int:
    return len(np.unique(values))


def test_probe_prints_the_sequence(tmp_path, capsys):
    write_dpx_frames(tmp_path / "scan", range(86400, 86404), size=(54, 72))  # 2K's 4:3 shape, small
    assert main(["probe", str(tmp_path / "scan" / "f_%06d.dpx")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["width"], printed["height"], printed["frame_count"], printed["codec"]) == (72, 54, 4, "dpx")
    assert printed["sequence"]["first_number"] == 86400 and printed["sequence"]["bits"] == 10
    assert printed["sequence"]["transfer"] == "logarithmic"


@pytest.mark.parametrize("bits", [10, 16])
def test_restore_dpx_to_a_sequence_keeps_numbers_depth_and_timecode(tmp_path, bits):
    write_dpx_frames(tmp_path / "scan", range(1001, 1004), bits=bits)
    out = tmp_path / "out" / "r_%04d.dpx"
    # A no-op pipeline gives back every code value; a light one keeps the depth's fine steps.
    assert main(["restore", str(tmp_path / "scan"), str(out), "--pipeline", _spec(tmp_path, NO_OP), "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path / "out")) == ["r_1001.dpx", "r_1002.dpx", "r_1003.dpx"]
    for number in (1001, 1003):
        written, header = dpx.read(tmp_path / "out" / f"r_{number}.dpx")
        original, original_header = dpx.read(tmp_path / "scan" / f"f_{number:06d}.dpx")
        assert header.bits == bits and np.array_equal(written, original)
        assert header.timecode == original_header.timecode and header.transfer == "logarithmic"

    light = tmp_path / "light" / "r_%04d.dpx"
    assert main(["restore", str(tmp_path / "scan"), str(light), "--pipeline", _spec(tmp_path, LIGHT), "--quiet"]) == 0
    written, header = dpx.read(tmp_path / "light" / "r_1002.dpx")
    assert header.bits == bits
    # 3072 pixels of a full-range ramp: an 8-bit step anywhere would leave at most 256 codes.
    assert _distinct_codes(written[..., 1]) > (900 if bits == 10 else 2500)


@pytest.mark.parametrize(("bits", "least_codes"), [(10, 900), (16, 2500)])
def test_the_clean_presets_ops_keep_the_depth(tmp_path, bits, least_codes):
    write_dpx_frames(tmp_path / "scan", range(1, 5), bits=bits)
    assert main(["restore", str(tmp_path / "scan"), str(tmp_path / "out" / "r_%04d.dpx"), "--preset", "clean",
                 "--quiet"]) == 0
    written, header = dpx.read(tmp_path / "out" / "r_0002.dpx")
    assert header.bits == bits and _distinct_codes(written[..., 1]) > least_codes


def test_grade_apply_writes_a_sequence_at_the_source_depth(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(7, 10), bits=10)
    grade = Grade.from_dict({"version": 1, "cdl": {"slope": [1.05, 1.0, 0.95], "offset": [0.01, 0, 0], "power": [1, 1, 1],
                                                  "saturation": 0.9}, "lut": None})
    grade_save(grade, tmp_path / "look.json")
    out = tmp_path / "graded" / "g_%02d.dpx"
    assert main(["grade", "apply", str(tmp_path / "scan"), str(out), "--grade", str(tmp_path / "look.json"),
                 "--quiet"]) == 0
    written, header = dpx.read(tmp_path / "graded" / "g_08.dpx")
    source = torch.from_numpy(dpx.read(tmp_path / "scan" / "f_000008.dpx")[0].astype(np.float32) / 1023)
    expected = (grade_apply(source.permute(2, 0, 1)[None], grade).clamp(0, 1) * 1023).round()[0].permute(1, 2, 0)
    assert header.bits == 10 and header.timecode == "01:00:00:01"
    assert np.array_equal(written, expected.numpy().astype(np.uint16))


def test_restore_tiff_sequence_to_a_tiff_sequence_at_16_bits(tmp_path):
    (tmp_path / "scan").mkdir()
    for number in range(5, 8):
        tifffile.imwrite(tmp_path / "scan" / f"s{number:03d}.tif", gradient_codes(16, shift=number), photometric="rgb")
    out = tmp_path / "out" / "r%03d.tiff"
    assert main(["restore", str(tmp_path / "scan"), str(out), "--pipeline", _spec(tmp_path, LIGHT), "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path / "out")) == ["r005.tiff", "r006.tiff", "r007.tiff"]
    written = read_values(tmp_path / "out" / "r006.tiff", "tiff")
    assert written.dtype == np.uint16 and _distinct_codes(written[..., 0]) > 2500


def test_restore_a_sequence_to_a_video_file_and_analyse_and_degrade_it(tmp_path, capsys):
    write_dpx_frames(tmp_path / "scan", range(1, 5), bits=16)
    video = tmp_path / "restored.mkv"
    assert main(["restore", str(tmp_path / "scan"), str(video), "--pipeline", _spec(tmp_path, NO_OP), "--quiet"]) == 0
    assert io.probe(video).frame_count == 4 and io.probe(video).bit_depth == 16
    assert np.array_equal(io.read_frames(video).numpy(), io.read_frames(tmp_path / "scan").numpy())

    # From a video the numbers start at 0, or at the N of a pattern ending in @N; the depth is kept.
    assert main(["restore", str(video), str(tmp_path / "png" / "p%04d.png@86400"), "--pipeline",
                 _spec(tmp_path, NO_OP), "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path / "png")) == [f"p{n:04d}.png" for n in range(86400, 86404)]
    assert np.array_equal(io.read_frames(tmp_path / "png").numpy(), io.read_frames(tmp_path / "scan").numpy())
    assert io.probe(tmp_path / "png").sequence.bits == 16

    assert main(["analyse", str(tmp_path / "scan"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frame_count"] == 4

    assert main(["degrade", str(tmp_path / "scan"), str(tmp_path / "damaged" / "d_%03d.dpx"), "--seed", "1",
                 "--strength", "light"]) == 0
    damaged = io.probe(tmp_path / "damaged")
    assert (damaged.sequence.first_number, damaged.frame_count, damaged.sequence.bits) == (1, 4, 16)


@pytest.mark.parametrize("case", ["no match", "gaps", "mixed sizes", "packing", "not a dpx",
                                  "truncated late", "existing output"])
def test_bad_sequences_fail_in_one_line_and_write_nothing(tmp_path, capsys, case):
    scan = tmp_path / "scan"
    write_dpx_frames(scan, range(1, 4))
    source, expected = str(scan), None
    if case == "no match":
        source, expected = str(scan / "x_%06d.dpx"), "no frames match the pattern"
    elif case == "gaps":
        (scan / "f_000002.dpx").unlink()
        expected = "gaps in the numbering: frames 1, 3 present, 2 missing"
    elif case == "mixed sizes":
        write_dpx_frames(scan, [4], size=(32, 64))
        expected = "f_000004.dpx: the frame is 64x32 RGB 10-bit, frame 1 is 64x48 RGB 10-bit"
    elif case == "packing":
        raw = bytearray((scan / "f_000002.dpx").read_bytes())
        raw[780 + 24:780 + 26] = b"\0\0"
        (scan / "f_000002.dpx").write_bytes(bytes(raw))
        expected = "f_000002.dpx: DPX 10-bit packing 0 not supported"
    elif case == "not a dpx":
        (scan / "f_000003.dpx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4000))
        expected = "f_000003.dpx: not a DPX file"
    elif case == "truncated late":  # the header reads, the pixels do not
        (scan / "f_000003.dpx").write_bytes((scan / "f_000003.dpx").read_bytes()[:3000])
        expected = "f_000003.dpx: truncated DPX"
    before = sorted(os.listdir(tmp_path))
    out = scan / "f_%06d.dpx" if case == "existing output" else tmp_path / "out" / "r_%06d.dpx"
    expected = expected or "already holds frames 1-3 of this pattern"
    assert main(["restore", source, str(out), "--pipeline", _spec(tmp_path, NO_OP), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and expected in error
    assert sorted(os.listdir(tmp_path)) == sorted({*before, "spec.json"})
    if case == "truncated late":
        assert main(["probe", source]) == 0  # probing reads headers only
    elif case == "existing output":
        assert sorted(os.listdir(scan)) == ["f_000001.dpx", "f_000002.dpx", "f_000003.dpx"]
    else:
        assert main(["probe", source]) == 2 and expected in capsys.readouterr().err


def test_a_retimed_sequence_is_numbered_on_without_the_sources_per_frame_headers(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(101, 105), bits=12)
    spec = {"ops": [{"op": "levels"}], "retime": {"fps": 48}}
    out = tmp_path / "out" / "r_%04d.dpx"
    assert main(["restore", str(tmp_path / "scan"), str(out), "--pipeline", _spec(tmp_path, spec), "--quiet"]) == 0
    info = io.probe(tmp_path / "out")
    assert info.sequence.first_number == 101 and info.frame_count > 4 and info.fps == 48.0
    header = dpx.read_header(tmp_path / "out" / "r_0102.dpx")
    # Frame 102 of the output is not frame 102 of the scan: its timecode is not carried.
    assert (header.bits, header.transfer, header.timecode) == (12, "logarithmic", None)
