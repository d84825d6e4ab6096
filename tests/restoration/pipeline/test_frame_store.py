"""Carried frames spilled to nameless scratch files: read back exactly, nothing left behind."""

from __future__ import annotations

import os

import pytest
import torch

from restoration.pipeline import frame_store
from restoration.pipeline.frame_store import FrameStore


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="open descriptors from Linux's /proc")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_spilled_frames_come_back_bit_for_bit_from_a_file_with_no_name(tmp_path, dtype):
    frames = torch.randn(5, 3, 17, 23, generator=torch.Generator().manual_seed(0)).to(dtype)[:, :, 2:, 1:]
    before = _descriptors()
    with FrameStore(str(tmp_path)) as store:
        spilled = store.spill(frames)
        assert _descriptors() == before + 1
        # The file has no name: the folder stays empty, the descriptor points at a deleted inode.
        assert list(tmp_path.iterdir()) == []
        assert os.readlink(f"/proc/self/fd/{spilled._file.fileno()}").endswith("(deleted)")
        back = spilled.load()
        assert _descriptors() == before  # read back: closed, its space freed
    assert back.dtype == dtype and back.shape == frames.shape
    assert torch.equal(back, frames)
    with pytest.raises(RuntimeError, match="once"):
        spilled.load()


def test_leaving_the_store_closes_what_was_not_read_back(tmp_path):
    before = _descriptors()
    with pytest.raises(ValueError), FrameStore(str(tmp_path)) as store:
        store.spill(torch.ones(2, 1, 8, 8))
        store.spill(torch.zeros(3, 1, 8, 8))
        assert _descriptors() == before + 2
        raise ValueError("an op failed")
    assert _descriptors() == before
    assert list(tmp_path.iterdir()) == []


def test_large_lots_are_written_and_read_in_steps(monkeypatch, tmp_path):
    monkeypatch.setattr(frame_store, "_IO_STEP", 1000)  # many partial writes and reads
    frames = torch.rand(3, 3, 40, 50, generator=torch.Generator().manual_seed(1))
    with FrameStore(str(tmp_path)) as store:
        assert torch.equal(store.spill(frames).load(), frames)


def test_frames_read_back_before_the_next_ones_in_one_tensor(tmp_path):
    kept, arrived = torch.rand(3, 2, 5, 7), torch.rand(4, 2, 5, 7)
    with FrameStore(str(tmp_path)) as store:
        assert torch.equal(store.spill(kept).load(then=arrived), torch.cat([kept, arrived]))
