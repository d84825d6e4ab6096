"""Small clip-making helpers shared by the engine's tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    # Engine tests use tiny tensors: on a small shared machine, thread start-up and spinning
    # cost far more than they save (measured 5-35x slower with 2 threads under load).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

# Each frame carries its own number as 12 bits, one 16x16 block per bit (two rows of six):
# big flat blocks on the macroblock grid survive lossy codecs and chroma subsampling.
_BLOCK = 16
_BITS = 12


def make_numbered_frames(count: int, *, channels: int = 3, height: int = 64, width: int = 96) -> torch.Tensor:
    """(count, channels, height, width) frames in [0, 1] whose content encodes their index."""
    if height < 2 * _BLOCK or width < 6 * _BLOCK or count > 2**_BITS:
        raise ValueError("numbered frames need at least 96x32 pixels and at most 4096 frames")
    ramp = torch.linspace(0.05, 0.35, height)[:, None].expand(height, width)
    frames = ramp.expand(count, channels, height, width).clone()
    for number in range(count):
        for bit in range(_BITS):
            if (number >> bit) & 1:
                row, column = divmod(bit, 6)
                frames[number, :, row * _BLOCK:(row + 1) * _BLOCK, column * _BLOCK:(column + 1) * _BLOCK] = 0.9
    if channels == 3:
        frames[:, 0] *= 0.7  # a real colour cast, so colour files are not mistaken for grey
        frames[:, 2] = frames[:, 2] * 0.8 + 0.1
    return frames


def frame_number_of(frame: torch.Tensor) -> int:
    """Read back the number written by ``make_numbered_frames`` from one (C, H, W) frame."""
    number = 0
    inner = slice(4, _BLOCK - 4)
    for bit in range(_BITS):
        row, column = divmod(bit, 6)
        block = frame[:, row * _BLOCK:(row + 1) * _BLOCK, column * _BLOCK:(column + 1) * _BLOCK][:, inner, inner]
        if block.max(dim=0).values.mean() > 0.6:
            number |= 1 << bit
    return number


@pytest.fixture
def numbered_frames():
    return make_numbered_frames


@pytest.fixture
def read_frame_number():
    return frame_number_of
