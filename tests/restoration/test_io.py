"""restoration.io: probe, frame-exact decode, chunked decode, encoders, bad input."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from restoration import io
from restoration.cli import main
from restoration.errors import MediaError

FOOTAGE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "footage"

# (extension, encoder options): H.264 with short GOPs and B-frames so that decode order
# differs from presentation order and seeking has several keyframes to choose from.
CODEC_CASES = [
    (".mp4", {"g": "8", "bf": "3"}),
    (".mov", None),
    (".mkv", None),
]


def _files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("extension,options", CODEC_CASES)
def test_random_out_of_order_reads_are_frame_exact(tmp_path, numbered_frames, read_frame_number, extension, options, channels):
    count = 40
    path = tmp_path / f"numbered{extension}"
    io.write_video(path, numbered_frames(count, channels=channels), fps=24, options=options)

    info = io.probe(path)
    assert info.frame_count == count
    assert info.channels == channels
    wanted = random.Random(7).sample(range(count), 12) + [count - 1, 0, count - 1]
    for number in wanted:
        frame = io.read_frames(path, number, 1)
        assert frame.shape == (1, channels, 64, 96)
        assert read_frame_number(frame[0]) == number
    run = io.read_frames(path, 17, 5)
    assert [read_frame_number(f) for f in run] == list(range(17, 22))


def test_h264_test_file_really_has_reordered_frames(tmp_path, numbered_frames):
    # Guards the test above: with B-frames, packets come in an order different from display.
    path = tmp_path / "b.mp4"
    io.write_video(path, numbered_frames(24), fps=24, options={"g": "8", "bf": "3"})
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.size]
        keyframes = io._inspect(path)[1].keyframe_numbers
    assert pts != sorted(pts)
    assert len(keyframes) >= 3


def test_iter_chunks_covers_the_range_in_order_and_matches_read_frames(tmp_path, numbered_frames, read_frame_number):
    path = tmp_path / "c.mp4"
    io.write_video(path, numbered_frames(30), fps=25, options={"g": "6", "bf": "2"})
    chunks = list(io.iter_chunks(path, 8, start=3, end=28))
    assert [first for first, _ in chunks] == [3, 11, 19, 27]
    assert [len(frames) for _, frames in chunks] == [8, 8, 8, 1]
    numbers = [read_frame_number(f) for _, frames in chunks for f in frames]
    assert numbers == list(range(3, 28))
    assert torch.equal(chunks[1][1][2:4], io.read_frames(path, 13, 2))
    whole = torch.cat([frames for _, frames in io.iter_chunks(path, 7)])
    assert torch.equal(whole, io.read_frames(path))


@pytest.mark.parametrize("kind", ["ffv1 16-bit", "ffv1 8-bit", "tiff 16-bit", "dpx 10-bit", "exr half"])
def test_code_chunks_are_the_stored_values_that_iter_chunks_makes_float(tmp_path, kind):
    from restoration.sequence.formats import FrameLayout, write_values

    frames = torch.rand(5, 3, 8, 12)
    if kind.startswith("ffv1"):
        path = tmp_path / "clip.mkv"
        io.write_video(path, frames, fps=24, codec="ffv1", bit_depth=16 if "16" in kind else 8)
    elif kind == "dpx 10-bit":
        path = tmp_path / "scan"
        path.mkdir()
        layout = FrameLayout("dpx", 12, 8, 3, 10, "uint", "logarithmic", True)
        for number, frame in enumerate((frames * 1023).round().to(torch.int32)):
            write_values(path / f"f_{number:04d}.dpx", frame.permute(1, 2, 0).numpy().astype(np.uint16), layout)
    else:
        path = tmp_path / ("f_%04d.tif" if kind.startswith("tiff") else "f_%04d.exr")
        with io.open_writer(path, fps=24, bit_depth=16) as writer:
            writer.write(frames)
    dtype, full_scale = {"ffv1 16-bit": (torch.uint16, 65535.0), "ffv1 8-bit": (torch.uint8, 255.0),
                         "tiff 16-bit": (torch.uint16, 65535.0), "dpx 10-bit": (torch.uint16, 1023.0),
                         "exr half": (torch.float32, None)}[kind]
    codes = list(io.iter_code_chunks(path, 2))
    floats = list(io.iter_chunks(path, 2))
    assert [first for first, _, _ in codes] == [first for first, _ in floats] == [0, 2, 4]
    for (_, chunk, scale), (_, expected) in zip(codes, floats, strict=True):
        assert chunk.dtype == dtype and scale == full_scale
        assert torch.equal(io.code_values_to_float(chunk, scale), expected)
    whole = torch.cat([chunk for _, chunk, _ in codes]).to(torch.float32)
    if full_scale is not None:  # every code a whole number within the depth, and 1.0 its full scale
        assert float(whole.max()) <= full_scale
        assert torch.equal(torch.cat([f for _, f in floats]) * full_scale, whole)


def test_iter_chunks_decodes_lazily(tmp_path, numbered_frames, monkeypatch):
    path = tmp_path / "lazy.mkv"
    io.write_video(path, numbered_frames(40, channels=1), fps=24)
    decoded = []
    real = io._frame_to_array
    monkeypatch.setattr(io, "_frame_to_array", lambda *a: decoded.append(1) or real(*a))
    chunks = io.iter_chunks(path, 8)
    first, frames = next(chunks)
    assert (first, len(frames), len(decoded)) == (0, 8, 8)  # nothing decoded beyond the chunk
    next(chunks)
    assert len(decoded) == 16


@pytest.mark.parametrize("channels,bit_depth,pix_fmt", [(1, 8, "gray"), (3, 8, "bgr0"), (1, 16, "gray16le"), (3, 16, "gbrp16le")])
def test_ffv1_round_trip_is_lossless(tmp_path, channels, bit_depth, pix_fmt):
    levels = 2**bit_depth - 1
    generator = torch.Generator().manual_seed(channels * bit_depth)
    frames = torch.randint(0, levels + 1, (3, channels, 20, 34), generator=generator).float() / levels
    path = tmp_path / "lossless.mkv"
    io.write_video(path, frames, fps=24, bit_depth=bit_depth)
    info = io.probe(path)
    assert (info.codec, info.pix_fmt, info.channels, info.bit_depth) == ("ffv1", pix_fmt, channels, bit_depth)
    back = io.read_frames(path)
    assert back.dtype == torch.float32
    assert torch.allclose(back, frames, atol=1e-6, rtol=0)


def test_16_bit_keeps_steps_that_8_bit_loses(tmp_path):
    frames = torch.full((1, 1, 8, 8), 1000 / 65535)
    frames[..., 4:] = 1001 / 65535  # one 16-bit step apart, the same 8-bit value
    io.write_video(tmp_path / "deep.mkv", frames, fps=24, bit_depth=16)
    io.write_video(tmp_path / "shallow.mkv", frames, fps=24, bit_depth=8)
    deep = io.read_frames(tmp_path / "deep.mkv")
    shallow = io.read_frames(tmp_path / "shallow.mkv")
    assert deep[..., 4:].mean() - deep[..., :4].mean() == pytest.approx(1 / 65535, abs=1e-7)
    assert torch.equal(shallow[..., 4:], shallow[..., :4])


def _packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


def test_16_bit_rgb_is_coded_as_packed_rgb_was(tmp_path):
    # The writer hands FFV1 its planar G, B, R; the packets are those of the packed RGB frames the
    # encoder used to convert itself (Matroska's own ids differ from file to file: packets compared).
    frames = torch.randint(0, 65536, (3, 3, 36, 52), generator=torch.Generator().manual_seed(3)) / 65535
    io.write_video(tmp_path / "planar.mkv", frames, fps=24, codec="ffv1", bit_depth=16)
    with av.open(str(tmp_path / "packed.mkv"), mode="w", format="matroska") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 52, 36, "gbrp16le"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 24)
        stream.options = {"level": "3", "g": "1", "slicecrc": "1"}
        for number, image in enumerate(frames):
            codes = (image * 65535).round().permute(1, 2, 0).numpy().astype(np.uint16)
            frame = av.VideoFrame.from_ndarray(codes, format="rgb48le")
            frame.pts, frame.time_base = number, Fraction(1, 24)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    assert _packets(tmp_path / "planar.mkv") == _packets(tmp_path / "packed.mkv")
    assert torch.equal(io.read_frames(tmp_path / "planar.mkv"), frames)


@pytest.mark.parametrize("extension,codec,pix_fmt", [(".mov", "prores", "yuv422p10le"), (".mp4", "h264", "yuv420p")])
@pytest.mark.parametrize("channels", [1, 3])
def test_lossy_codecs_round_trip_closely_and_keep_grey_grey(tmp_path, numbered_frames, extension, codec, pix_fmt, channels):
    frames = numbered_frames(6, channels=channels)
    path = tmp_path / f"lossy{extension}"
    io.write_video(path, frames, fps=30000 / 1001)
    info = io.probe(path)
    assert (info.codec, info.pix_fmt, info.channels) == (codec, pix_fmt, channels)
    assert info.bit_depth == (16 if codec == "prores" else 8)  # 10-bit ProRes is read at 16 bits
    assert info.fps == pytest.approx(29.97, abs=1e-3)
    assert info.duration == pytest.approx(6 / info.fps)
    back = io.read_frames(path)
    assert back.shape == frames.shape
    assert (back - frames).abs().mean() < 0.02
    assert back.min() >= 0 and back.max() <= 1


def test_probe_fields_and_json(tmp_path, numbered_frames):
    path = tmp_path / "p.mkv"
    io.write_video(path, numbered_frames(5, channels=1), fps=18)
    info = io.probe(path)
    assert info.to_dict() == {
        "path": str(path), "container": "matroska,webm", "codec": "ffv1", "width": 96, "height": 64,
        "fps": 18.0, "frame_count": 5, "bit_depth": 8, "pix_fmt": "gray", "channels": 1,
        "duration": pytest.approx(5 / 18), "audio": (),
    }


def test_read_frames_device_and_empty_count(tmp_path, numbered_frames):
    path = tmp_path / "d.mkv"
    io.write_video(path, numbered_frames(3), fps=24)
    assert io.read_frames(path, 1, 0).shape == (0, 3, 64, 96)
    assert io.read_frames(path, device=torch.device("cpu")).device.type == "cpu"


# -- bad input ---------------------------------------------------------------------------------


@pytest.fixture
def good_mkv(tmp_path, numbered_frames):
    path = tmp_path / "good.mkv"
    io.write_video(path, numbered_frames(20, channels=1), fps=24)
    return path


def _assert_media_error(callable_, *fragments):
    with pytest.raises(MediaError) as caught:
        callable_()
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_bad_inputs_raise_media_error_with_one_line(tmp_path, good_mkv):
    _assert_media_error(lambda: io.probe(tmp_path / "missing.mkv"), "no such file")
    # A folder names an image sequence (restoration.sequence); this one holds none.
    _assert_media_error(lambda: io.probe(tmp_path), "no numbered DPX, TIFF, PNG or EXR frames")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    _assert_media_error(lambda: io.probe(text), "not a readable video")
    noise = tmp_path / "noise.mkv"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    _assert_media_error(lambda: io.read_frames(noise, 0, 1), "not a readable video")
    empty = tmp_path / "empty.mov"
    empty.touch()
    _assert_media_error(lambda: io.probe(empty), "empty")


def test_truncated_files_are_rejected(tmp_path, good_mkv, numbered_frames):
    data = good_mkv.read_bytes()
    half = tmp_path / "half.mkv"
    half.write_bytes(data[: len(data) // 2])
    _assert_media_error(lambda: io.probe(half), "truncated")
    _assert_media_error(lambda: io.read_frames(half, 0, 1), "truncated")
    mp4 = tmp_path / "whole.mp4"
    io.write_video(mp4, numbered_frames(10), fps=24)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(mp4.read_bytes()[:-200])  # the index (moov) sits at the end
    _assert_media_error(lambda: io.probe(cut), "cut.mp4")


def test_audio_only_and_zero_frame_files_are_rejected(tmp_path):
    audio = tmp_path / "sound.mka"
    with av.open(str(audio), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    _assert_media_error(lambda: io.probe(audio), "no video stream")

    hollow = tmp_path / "hollow.mkv"
    with av.open(str(hollow), "w") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "gray"
        container.start_encoding()
    _assert_media_error(lambda: io.probe(hollow), "no video frames")


def test_absurd_dimensions_are_rejected(tmp_path):
    huge = tmp_path / "huge.y4m"
    huge.write_bytes(b"YUV4MPEG2 W40000 H16 F24:1 Ip A1:1 Cmono\nFRAME\n" + bytes(40000 * 16))
    _assert_media_error(lambda: io.probe(huge), "40000x16")


def test_frame_ranges_are_checked(good_mkv):
    _assert_media_error(lambda: io.read_frames(good_mkv, 20, 1), "past the end")
    _assert_media_error(lambda: io.read_frames(good_mkv, 15, 10), "20 frames")
    _assert_media_error(lambda: io.read_frames(good_mkv, -1, 1), "start")
    _assert_media_error(lambda: list(io.iter_chunks(good_mkv, 0)), "chunk_size")
    _assert_media_error(lambda: list(io.iter_chunks(good_mkv, 4, start=5, end=5)), "end")


def test_writer_rejects_bad_output_paths_and_settings(tmp_path):
    frames = torch.rand(2, 3, 16, 16)
    _assert_media_error(lambda: io.write_video(tmp_path / "no" / "such" / "out.mkv", frames, fps=24), "does not exist")
    _assert_media_error(lambda: io.write_video(tmp_path, frames, fps=24), "folder")
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    _assert_media_error(lambda: io.write_video(a_file / "out.mkv", frames, fps=24), "does not exist")
    _assert_media_error(lambda: io.write_video(tmp_path / "out.avi", frames, fps=24), ".avi")
    _assert_media_error(lambda: io.write_video(tmp_path / "out.mp4", frames, fps=24, codec="ffv1"), "mp4")
    _assert_media_error(lambda: io.write_video(tmp_path / "out.mkv", frames, fps=0), "fps")
    _assert_media_error(lambda: io.write_video(tmp_path / "out.mkv", frames, fps=24, bit_depth=10), "bit_depth")
    _assert_media_error(lambda: io.write_video(tmp_path / "out.mkv", frames[:, :2], fps=24), "(T, C, H, W)")
    assert _files_in(tmp_path) == ["plain.txt"]


def test_odd_sizes_need_ffv1_and_leave_no_file(tmp_path):
    odd = torch.rand(2, 3, 33, 32)
    _assert_media_error(lambda: io.write_video(tmp_path / "odd.mp4", odd, fps=24), "even")
    assert _files_in(tmp_path) == []
    io.write_video(tmp_path / "odd.mkv", odd, fps=24)
    assert io.probe(tmp_path / "odd.mkv").height == 33


def test_writer_is_atomic_and_cleans_up_on_error(tmp_path):
    final = tmp_path / "clip.mkv"
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError), io.VideoWriter(final, fps=24) as writer:
        writer.write(torch.rand(3, 1, 16, 16))
        assert final.read_bytes() == b"old"  # nothing under the final name while writing
        assert len(_files_in(tmp_path)) == 2  # the hidden partial file, in the same folder
        raise RuntimeError("boom")
    assert final.read_bytes() == b"old"
    assert _files_in(tmp_path) == ["clip.mkv"]

    with pytest.raises(MediaError, match="earlier ones"), io.VideoWriter(tmp_path / "shapes.mkv", fps=24) as writer:
        writer.write(torch.rand(1, 1, 16, 16))
        writer.write(torch.rand(1, 1, 16, 18))
    _assert_media_error(lambda: io.VideoWriter(tmp_path / "none.mkv", fps=24).close(), "no frames")
    assert _files_in(tmp_path) == ["clip.mkv"]

    with io.VideoWriter(final, fps=24) as writer:
        writer.write(torch.rand(3, 1, 16, 16))
    assert io.probe(final).frame_count == 3
    assert _files_in(tmp_path) == ["clip.mkv"]


def test_cli_probe_prints_json_and_fails_cleanly(tmp_path, good_mkv, capsys):
    assert main(["probe", str(good_mkv)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["frame_count"] == 20 and printed["channels"] == 1

    assert main(["probe", str(tmp_path / "absent.mkv")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")


# -- real archival footage ---------------------------------------------------------------------


def _footage(name: str) -> Path:
    path = FOOTAGE / name
    if not path.exists():
        pytest.skip(f"archival footage not available ({path})")
    return path


@pytest.mark.footage
def test_real_h264_footage_seeks_exactly(tmp_path):
    path = _footage("a-bomb-blast-effects-1952.mp4")
    info = io.probe(path)
    assert (info.width, info.height, info.frame_count, info.channels) == (432, 320, 360, 1)
    sequential = torch.cat([frames for _, frames in io.iter_chunks(path, 16, start=280, end=310)])
    for number in (305, 299, 281):
        assert torch.equal(io.read_frames(path, number, 1)[0], sequential[number - 280])


@pytest.mark.footage
def test_real_ffv1_footage_is_grey_and_seeks_exactly():
    path = _footage("within_our_gates.mkv")
    info = io.probe(path)
    assert (info.codec, info.pix_fmt, info.channels, info.frame_count) == ("ffv1", "gray", 1, 48)
    everything = io.read_frames(path)
    for number in (47, 28, 13):
        assert torch.equal(io.read_frames(path, number, 1)[0], everything[number])
