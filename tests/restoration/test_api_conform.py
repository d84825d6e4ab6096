"""clips_join as a delivery's conform: spans of files, the scan's sound carried sample-aligned,
FFV1 and ProRes masters, a retimed picture refused with sound."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from restoration import api
from restoration.errors import MediaError, RestorationError
from restoration.io import SoundReader, VideoWriter, read_frames

RATE = 48_000
FPS = 24.0
PER_FRAME = RATE // 24  # 2000 samples a frame, exactly


def _frame_value(number: int) -> int:
    return (number + 1) * 1000 << 16  # a 16-bit value per scan frame, left-justified


@pytest.fixture
def scan_with_sound(tmp_path):
    """20 frames whose sound is, for the whole of frame n, the constant (n + 1) * 1000 (16 bit),
    on two streams (stereo and mono), and whose pictures' grey level is n / 20."""
    path = tmp_path / "scan.mkv"
    with VideoWriter(path, fps=FPS, sound=((RATE, "stereo", 16), (RATE, "mono", 16))) as out:
        for number in range(20):
            out.write(torch.full((1, 3, 16, 16), number / 20))
            value = _frame_value(number)
            out.write_sound(0, np.full((PER_FRAME, 2), value, dtype=np.int32))
            out.write_sound(1, np.full((PER_FRAME, 1), -value, dtype=np.int32))
    return path


def _sound(path, stream: int) -> np.ndarray:
    with SoundReader(path, stream) as reader:
        return reader.read(0, api.probe(path).frame_count * PER_FRAME)


def test_probe_lists_the_sound_streams(scan_with_sound):
    assert api.probe(scan_with_sound).audio == ((RATE, "stereo", 16), (RATE, "mono", 16))


@pytest.mark.parametrize("codec", ["ffv1", "prores"])
def test_spans_out_of_order_keep_their_own_sound_frame_for_frame(scan_with_sound, tmp_path, codec):
    spans = [api.ClipSpan(scan_with_sound, start=12, count=5, sound=scan_with_sound, sound_start=12),
             api.ClipSpan(scan_with_sound, start=3, count=4, sound=scan_with_sound, sound_start=3)]
    output = tmp_path / f"master{api.MASTER_CODECS[codec]}"
    info = api.clips_join(spans, output, fps=FPS, sound=True, codec=codec)
    assert info.frame_count == 9 and info.audio == ((RATE, "stereo", 16), (RATE, "mono", 16))
    assert info.codec == ("ffv1" if codec == "ffv1" else "prores")
    scan_frames = [12, 13, 14, 15, 16, 3, 4, 5, 6]
    stereo, mono = _sound(output, 0), _sound(output, 1)
    for output_frame, scan_frame in enumerate(scan_frames):
        part = slice(output_frame * PER_FRAME, (output_frame + 1) * PER_FRAME)
        assert np.all(stereo[part] == _frame_value(scan_frame)), (output_frame, scan_frame)
        assert np.all(mono[part] == -_frame_value(scan_frame))
    pictures = read_frames(output)
    for output_frame, scan_frame in enumerate(scan_frames):
        assert abs(pictures[output_frame].mean().item() - scan_frame / 20) < 0.01


def test_a_version_file_takes_the_scans_sound_for_its_shot(scan_with_sound, tmp_path):
    version = tmp_path / "version.mkv"
    with VideoWriter(version, fps=FPS) as out:  # a restored shot: frames 5..9 of the scan, no sound
        out.write(torch.zeros(5, 3, 16, 16))
    spans = [api.ClipSpan(version, sound=scan_with_sound, sound_start=5),
             api.ClipSpan(scan_with_sound, start=0, count=2)]  # no sound named: silence
    output = tmp_path / "master.mkv"
    api.clips_join(spans, output, fps=FPS, sound=True)
    stereo = _sound(output, 0)
    assert [int(stereo[frame * PER_FRAME, 0]) for frame in range(7)] == [_frame_value(n) for n in range(5, 10)] + [0, 0]


def test_a_retimed_picture_is_refused_with_sound(scan_with_sound, tmp_path):
    with pytest.raises(RestorationError, match="drift"):
        api.clips_join([api.ClipSpan(scan_with_sound, sound=scan_with_sound)], tmp_path / "x.mkv", fps=25.0,
                       sound=True)
    assert not list(tmp_path.glob("x.mkv*")) and not list(tmp_path.glob(".x.mkv*"))


def test_sound_asked_of_a_silent_scan_or_a_span_past_the_end_is_refused(tmp_path, scan_with_sound):
    silent = tmp_path / "silent.mkv"
    with VideoWriter(silent, fps=FPS) as out:
        out.write(torch.zeros(3, 3, 16, 16))
    with pytest.raises(MediaError, match="no sound"):
        api.clips_join([api.ClipSpan(silent, sound=silent)], tmp_path / "x.mkv", fps=FPS, sound=True)
    with pytest.raises(MediaError, match="frames 18..21"):
        api.clips_join([api.ClipSpan(scan_with_sound, start=18, count=4)], tmp_path / "x.mkv", fps=FPS)
    with pytest.raises(RestorationError, match="codec"):
        api.clips_join([silent], tmp_path / "x.mkv", fps=FPS, codec="h264")


def test_prores_masters_are_422_hq_at_10_bit(scan_with_sound, tmp_path):
    output = tmp_path / "master.mov"
    api.clips_join([scan_with_sound], output, fps=FPS, codec="prores")
    with av.open(str(output)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv422p10le"
        assert stream.codec_context.profile == "HQ"
    assert api.probe(output).audio == ()


def test_the_demo_sound_clicks_on_each_cut(tmp_path):
    samples = api.demo_sound(2, 10, 13, fps=FPS)
    assert samples.shape == (3 * PER_FRAME, 2)
    assert samples[0, 0] > 2**31 * 0.9 and abs(samples[200, 0]) <= 2**31 * 0.26


def test_sound_add_puts_the_masters_sound_beside_a_copied_picture(scan_with_sound, tmp_path):
    picture = tmp_path / "picture.mp4"
    with VideoWriter(picture, fps=FPS) as out:  # a distribution encode: H.264, no sound
        out.write(torch.rand(20, 3, 16, 16))
    output = tmp_path / "distribution.mp4"
    info = api.sound_add(picture, scan_with_sound, output)
    assert info.codec == "h264" and info.frame_count == 20
    assert [(rate, layout) for rate, layout, _ in info.audio] == [(RATE, "stereo"), (RATE, "mono")]
    with av.open(str(output)) as container:
        sound = container.streams.audio[0]
        assert sound.codec_context.name == "aac"
        samples = sum(frame.samples for frame in container.decode(sound))
    assert abs(samples - 20 * PER_FRAME) <= 2048  # the encoder's priming and last frame at most
    with av.open(str(picture)) as original, av.open(str(output)) as copied:  # the picture is not re-encoded
        assert ([bytes(p) for p in original.demux(video=0) if p.size]
                == [bytes(p) for p in copied.demux(video=0) if p.size])
    with pytest.raises(MediaError, match="no sound"):
        api.sound_add(picture, picture, tmp_path / "x.mp4")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
