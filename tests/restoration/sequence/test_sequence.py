"""Image sequences: naming by pattern or folder, frame numbers, the other formats' round trips,
the writer (numbers, depth, headers, nothing half-written) and every bad sequence."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
import tifffile
import torch

from restoration import api, io
from restoration.errors import MediaError
from restoration.sequence import dpx, find
from restoration.sequence.formats import FrameLayout, read_values, write_values

from .conftest import gradient_codes, write_dpx_frames


def test_a_folder_with_one_run_is_that_sequence(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(86400, 86405))
    (tmp_path / "scan" / "notes.txt").write_text("not a frame")
    info = io.probe(tmp_path / "scan")
    assert info.path == str(tmp_path / "scan" / "f_%06d.dpx")
    assert (info.frame_count, info.width, info.height, info.channels, info.bit_depth) == (5, 64, 48, 3, 16)
    assert (info.sequence.first_number, info.sequence.last_number, info.sequence.bits) == (86400, 86404, 10)
    assert (info.sequence.transfer, info.sequence.byte_order, info.sequence.timecode) == ("logarithmic", "big",
                                                                                          "01:00:00:00")
    assert info.fps == 24.0
    assert io.probe(info.path) == info  # the reported name names it again


def test_frames_are_exact_and_addressed_by_engine_number(tmp_path):
    paths = write_dpx_frames(tmp_path / "scan", range(1001, 1006), bits=12)
    frames = io.read_frames(tmp_path / "scan" / "f_%06d.dpx", 2, 2)
    expected = np.stack([dpx.read(path)[0] for path in paths[2:4]]).astype(np.float32) / 4095
    assert torch.equal(frames, torch.from_numpy(expected).permute(0, 3, 1, 2))
    chunks = list(io.iter_chunks(tmp_path / "scan", 2))
    assert [(first, chunk.shape[0]) for first, chunk in chunks] == [(0, 2), (2, 2), (4, 1)]


def test_a_start_number_starts_the_sequence_there(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(1, 11))
    info = io.probe(f"{tmp_path}/scan/f_%06d.dpx@4")
    assert (info.frame_count, info.sequence.first_number, info.path) == (7, 4, f"{tmp_path}/scan/f_%06d.dpx@4")
    assert torch.equal(io.read_frames(info.path, 0, 1), io.read_frames(tmp_path / "scan", 3, 1))
    with pytest.raises(MediaError, match="no frame 20"):
        io.probe(f"{tmp_path}/scan/f_%06d.dpx@20")


def test_unpadded_numbers_are_found_as_percent_d(tmp_path):
    write_dpx_frames(tmp_path / "scan", [8, 9, 10, 11], width=1)
    assert io.probe(tmp_path / "scan").path == str(tmp_path / "scan" / "f_%d.dpx")


def test_several_runs_in_a_folder_are_named(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(1, 4), prefix="a_")
    write_dpx_frames(tmp_path / "scan", range(10, 12), prefix="b_", width=4)
    with pytest.raises(MediaError, match=r"2 image sequences in the folder: a_%06d.dpx \(frames 1-3\); "
                                         r"b_%04d.dpx \(frames 10-11\); name one by its pattern"):
        io.probe(tmp_path / "scan")
    assert io.probe(tmp_path / "scan" / "b_%04d.dpx").frame_count == 2


def test_gaps_are_named(tmp_path):
    write_dpx_frames(tmp_path / "scan", [1, 2, 3, 5, 6, 9])
    with pytest.raises(MediaError, match="gaps in the numbering: frames 1-3, 5-6, 9 present, 4, 7-8 missing"):
        io.probe(tmp_path / "scan")


def test_a_pattern_that_matches_nothing(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(1, 3))
    with pytest.raises(MediaError, match="no frames match the pattern"):
        io.probe(tmp_path / "scan" / "g_%06d.dpx")
    with pytest.raises(MediaError, match="no such folder"):
        io.probe(tmp_path / "nowhere" / "f_%06d.dpx")
    with pytest.raises(MediaError, match="no numbered DPX, TIFF, PNG or EXR frames"):
        (tmp_path / "empty").mkdir()
        io.probe(tmp_path / "empty")


def test_frames_of_another_size_or_depth_are_named(tmp_path):
    write_dpx_frames(tmp_path / "size", range(1, 4))
    write_dpx_frames(tmp_path / "size", [4], size=(40, 64))
    with pytest.raises(MediaError, match=r"f_000004.dpx: the frame is 64x40 RGB 10-bit, frame 1 is 64x48 RGB 10-bit"):
        io.probe(tmp_path / "size")
    write_dpx_frames(tmp_path / "depth", range(1, 3))
    write_dpx_frames(tmp_path / "depth", [3], bits=16)
    with pytest.raises(MediaError, match="f_000003.dpx: the frame is 64x48 RGB 16-bit"):
        io.probe(tmp_path / "depth")


def test_a_frame_that_is_not_what_its_extension_says(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(1, 3))
    (tmp_path / "scan" / "f_000003.dpx").write_bytes(b"II*\0" + bytes(4000))  # a TIFF's start
    with pytest.raises(MediaError, match="f_000003.dpx: not a DPX file"):
        io.probe(tmp_path / "scan")
    (tmp_path / "lzw").mkdir()
    tifffile.imwrite(tmp_path / "lzw" / "f_1.tif", gradient_codes(16), photometric="rgb", compression="zlib")
    tifffile.imwrite(tmp_path / "lzw" / "f_2.tif", gradient_codes(16), photometric="rgb")
    assert io.probe(tmp_path / "lzw").frame_count == 2  # Deflate and none are read
    raw = bytearray((tmp_path / "lzw" / "f_2.tif").read_bytes())
    tag = raw.find(struct.pack("<HHI", 259, 3, 1))  # the Compression tag, rewritten to LZW
    raw[tag + 8:tag + 10] = struct.pack("<H", 5)
    (tmp_path / "lzw" / "f_2.tif").write_bytes(bytes(raw))
    with pytest.raises(MediaError, match="f_2.tif: TIFF compressed with LZW not supported"):
        io.probe(tmp_path / "lzw")
    (tmp_path / "tiff").mkdir()
    (tmp_path / "tiff" / "f_1.tif").write_bytes(b"SDPX" + bytes(4000))
    with pytest.raises(MediaError, match="f_1.tif: not a readable TIFF file"):
        io.probe(tmp_path / "tiff")


@pytest.mark.parametrize(("extension", "bits", "channels"), [(".tif", 16, 3), (".tif", 8, 1), (".png", 16, 3),
                                                             (".png", 8, 1), (".png", 16, 1)])
def test_tiff_and_png_round_trips_are_exact(tmp_path, extension, bits, channels):
    codes = gradient_codes(bits, channels=channels)
    stored = codes.astype(np.uint8) if bits == 8 else codes
    layout = FrameLayout("png" if extension == ".png" else "tiff", 64, 48, channels, bits, "uint")
    for number in (7, 8):
        write_values(tmp_path / f"f{number}{extension}", stored, layout)
    assert np.array_equal(read_values(tmp_path / f"f7{extension}", layout.format), stored)
    info = io.probe(tmp_path)
    assert (info.frame_count, info.channels, info.sequence.bits, info.bit_depth) == (2, channels, bits, bits)
    frames = io.read_frames(tmp_path)
    with io.open_writer(tmp_path / "out" / f"g%d{extension}", fps=24, bit_depth=info.bit_depth, source=info.path) as writer:
        writer.write(frames)
    written = read_values(tmp_path / "out" / f"g8{extension}", layout.format)
    assert written.dtype == stored.dtype and np.array_equal(written, stored)


def test_exr_half_round_trip_keeps_values_above_one(tmp_path):
    values = np.linspace(-0.5, 4.0, 48 * 64 * 3, dtype=np.float32).reshape(48, 64, 3).astype(np.float16)
    folder = tmp_path / "exr"
    folder.mkdir()
    layout = FrameLayout("exr", 64, 48, 3, 16, "float")
    for number in (1, 2):
        write_values(folder / f"f.{number:04d}.exr", values.astype(np.float32), layout)
    info = io.probe(folder)
    assert (info.sequence.format, info.sequence.bits, info.sequence.sample, info.frame_count) == ("exr", 16, "float", 2)
    frames = io.read_frames(folder)
    assert torch.equal(frames[1], torch.from_numpy(values.astype(np.float32)).permute(2, 0, 1))
    with io.open_writer(tmp_path / "out" / "g.%04d.exr", fps=24, source=info.path) as writer:
        writer.write(frames)
    assert np.array_equal(read_values(tmp_path / "out" / "g.0002.exr", "exr"), values.astype(np.float32))


def test_tiff_sequence_reads_planar_files_too(tmp_path):
    codes = gradient_codes(16)
    (tmp_path / "scan").mkdir()
    tifffile.imwrite(tmp_path / "scan" / "s_01.tif", np.moveaxis(codes, -1, 0), photometric="rgb", planarconfig="separate")
    tifffile.imwrite(tmp_path / "scan" / "s_02.tif", codes, photometric="rgb")
    frames = io.read_frames(tmp_path / "scan")
    assert torch.equal(frames[0], frames[1])
    assert frames[0, 0, 0, 0] == 0 and frames.shape == (2, 3, 48, 64)


def test_writer_keeps_numbers_depth_and_each_frames_header(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(86400, 86403), bits=12, big_endian=False, transfer="printing-density")
    source = io.probe(tmp_path / "scan")
    with io.open_writer(tmp_path / "out" / "r_%07d.dpx", fps=24, bit_depth=16, source=source.path) as writer:
        for _, chunk in io.iter_chunks(source.path, 2):
            writer.write(chunk)
    assert sorted(os.listdir(tmp_path / "out")) == [f"r_{n:07d}.dpx" for n in range(86400, 86403)]
    for index, number in enumerate(range(86400, 86403)):
        written, header = dpx.read(tmp_path / "out" / f"r_{number:07d}.dpx")
        original, original_header = dpx.read(tmp_path / "scan" / f"f_{number:06d}.dpx")
        assert np.array_equal(written, original)
        assert (header.bits, header.big_endian, header.transfer) == (12, False, "printing-density")
        assert header.timecode == original_header.timecode == f"01:00:00:{index:02d}"


def test_writer_refuses_a_folder_holding_frames_of_its_pattern(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(1, 3))
    with pytest.raises(MediaError, match="already holds frames 1-2 of this pattern"):
        io.open_writer(tmp_path / "scan" / "f_%06d.dpx", fps=24, source=str(tmp_path / "scan"))
    with pytest.raises(MediaError, match="unsupported frame format '.jpg'"):
        io.open_writer(tmp_path / "out" / "f_%06d.jpg", fps=24)
    with pytest.raises(MediaError, match="a codec applies to video files"):
        io.open_writer(tmp_path / "out" / "f_%06d.dpx", fps=24, codec="ffv1")


@pytest.mark.parametrize("existing_folder", [True, False])
def test_a_failed_write_leaves_nothing(tmp_path, existing_folder):
    out = tmp_path / "out"
    if existing_folder:
        out.mkdir()
    writer = io.open_writer(out / "f_%04d.tif", fps=24, bit_depth=16)
    writer.write(torch.rand(2, 3, 16, 16))
    with pytest.raises(MediaError, match="earlier ones were 3x16x16"):
        writer.write(torch.rand(1, 3, 8, 8))
    assert os.listdir(tmp_path) == (["out"] if existing_folder else [])
    assert not existing_folder or os.listdir(out) == []


def test_sequence_found_once_is_cached_until_the_folder_changes(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(1, 3))
    assert find(tmp_path / "scan") is find(tmp_path / "scan" / "f_%06d.dpx")
    write_dpx_frames(tmp_path / "scan", [3])
    assert find(tmp_path / "scan").count == 3


def test_a_video_file_with_a_percent_in_its_name_is_still_a_video(tmp_path):
    path = tmp_path / "reel%02d.mkv"
    io.write_video(path, torch.rand(2, 1, 16, 16), fps=24)
    assert io.probe(path).container == "matroska,webm"
    with io.open_writer(tmp_path / "copy%d.mkv", fps=24) as writer:
        assert isinstance(writer, io.VideoWriter)
        writer.write(torch.rand(1, 1, 16, 16))


def test_a_percent_that_is_not_the_frame_number_is_refused(tmp_path):
    write_dpx_frames(tmp_path / "scan", range(1, 3), prefix="100%_")
    with pytest.raises(MediaError, match="a % other than the frame number's"):
        io.probe(tmp_path / "scan")


def test_the_front_door_lists_a_sequences_files_for_its_caller_to_check(tmp_path):
    paths = write_dpx_frames(tmp_path / "scan", range(9, 12))
    assert api.sequence_files(f"{tmp_path}/scan/f_%06d.dpx@10") == [str(p) for p in paths[1:]]
    assert api.probe(tmp_path / "scan").sequence.last_number == 11
    with pytest.raises(MediaError, match="not an image sequence"):
        api.sequence_files(paths[0])


def test_bad_exr_frames_are_named(tmp_path):
    import OpenEXR

    folder = tmp_path / "exr"
    folder.mkdir()
    header = {"compression": OpenEXR.NO_COMPRESSION, "type": OpenEXR.scanlineimage}
    rgba = {name: np.zeros((8, 8), np.float16) for name in "RGBA"}
    OpenEXR.File(header, rgba).write(str(folder / "a_1.exr"))
    with pytest.raises(MediaError, match="a_1.exr: EXR channels A, B, G, R not supported"):
        io.probe(folder / "a_%d.exr")
    good = folder / "b_1.exr"
    write_values(good, np.zeros((8, 8, 3), np.float32), FrameLayout("exr", 8, 8, 3, 16, "float"))
    (folder / "b_2.exr").write_bytes(good.read_bytes()[:40])  # the header cut short
    with pytest.raises(MediaError, match="b_2.exr: not a readable OpenEXR file \\(damaged header\\)"):
        io.probe(folder / "b_%d.exr")
    (folder / "b_2.exr").write_bytes(b"SDPX" + bytes(3000))
    with pytest.raises(MediaError, match="b_2.exr: not a readable OpenEXR file \\(no EXR magic number\\)"):
        io.probe(folder / "b_%d.exr")
