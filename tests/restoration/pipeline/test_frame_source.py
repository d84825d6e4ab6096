"""The pipeline's frame source: a tensor or a file, read forward with a bounded buffer."""

from __future__ import annotations

import pytest
import torch

from restoration.errors import MediaError, SpecError
from restoration.io import read_frames, write_video
from restoration.pipeline.frame_source import FrameSource


def test_a_file_is_read_forward_in_overlapping_ranges(tmp_path):
    path = tmp_path / "clip.mkv"
    write_video(path, torch.rand(10, 3, 8, 12), fps=25)
    whole = read_frames(path)
    source = FrameSource.open(path, fps=None, chunk_size=3)
    assert (source.frame_count, source.channels, source.height, source.width) == (10, 3, 8, 12)
    assert source.fps == pytest.approx(25) and source.bit_depth == 8
    for lo, hi in ((0, 4), (2, 7), (5, 10)):  # windows with context overlap their neighbours
        assert torch.equal(source.get(lo, hi), whole[lo:hi])
    assert source._buffer.shape[0] <= 5  # what no later window needs is dropped


def test_a_tensor_is_served_as_is_and_checked():
    frames = torch.rand(4, 1, 6, 6)
    source = FrameSource.open(frames, fps=12.0, chunk_size=2)
    assert source.get(1, 3).data_ptr() == frames[1:3].data_ptr()
    with pytest.raises(SpecError, match="expected frames"):
        FrameSource.open(torch.rand(4, 2, 6, 6), fps=None, chunk_size=2)
    with pytest.raises(SpecError, match="expected float frames"):
        FrameSource.open(torch.zeros(4, 1, 6, 6, dtype=torch.uint8), fps=None, chunk_size=2)


def test_a_file_shorter_than_it_claims_is_a_media_error(tmp_path):
    path = tmp_path / "clip.mkv"
    write_video(path, torch.rand(3, 1, 8, 8), fps=24)
    source = FrameSource.open(path, fps=None, chunk_size=2)
    source.frame_count = 5  # as a container whose header promises more than it holds
    with pytest.raises(MediaError, match="ends after 3 frames, expected 5"):
        source.get(0, 5)


@pytest.mark.parametrize("name", ["clip.mkv", "scan/f_%04d.tif"])
def test_a_16_bit_file_is_buffered_as_its_code_values_and_served_as_float(tmp_path, name):
    from restoration.io import open_writer

    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    with open_writer(path, fps=24, bit_depth=16, codec="ffv1" if name.endswith(".mkv") else None) as writer:
        writer.write(torch.rand(6, 3, 8, 12))
    whole = read_frames(path)
    source = FrameSource.open(path, fps=None, chunk_size=4)
    first = source.get(0, 4)
    # The next window's context is kept as 16-bit codes (half of float32's memory) ...
    assert source._buffer.dtype == torch.uint16
    assert torch.equal(first, whole[:4])
    # ... and each window is a float copy of its own: changing it leaves the next one as read.
    assert not source.holds(first)
    first.fill_(2.0)
    assert torch.equal(source.get(2, 6), whole[2:6])


def test_a_tensor_sources_frames_are_held():
    frames = torch.rand(4, 1, 6, 6)
    source = FrameSource.open(frames, fps=12.0, chunk_size=2)
    assert source.holds(source.get(1, 3)) and source.holds(frames[2:])
    assert not source.holds(frames[1:3].clone())
