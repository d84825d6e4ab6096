"""Tiny synthetic scans for the image-sequence tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restoration.sequence import dpx


def gradient_codes(bits: int, *, channels: int = 3, height: int = 48, width: int = 64, shift: int = 0) -> np.ndarray:
    """(H, W, C) code values of a smooth ramp over the whole range: every pixel a different code
    where the depth allows (3072 pixels), so a hidden 8-bit step would show as few distinct codes."""
    ramp = np.linspace(0, (1 << bits) - 1, height * width).round().astype(np.int64).reshape(height, width)
    codes = np.stack([np.roll(ramp, shift + 7 * c) for c in range(channels)], axis=-1)
    return codes.astype(np.uint16)


def write_dpx_frames(folder: Path, numbers, *, bits: int = 10, big_endian: bool = True, channels: int = 3,
                     prefix: str = "f_", width: int = 6, transfer: str = "logarithmic", size=(48, 64)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, number in enumerate(numbers):
        path = folder / f"{prefix}{number:0{width}d}.dpx"
        codes = gradient_codes(bits, channels=channels, height=size[0], width=size[1], shift=index)
        dpx.write(path, codes, bits=bits, big_endian=big_endian, transfer=transfer,
                  timecode=f"01:00:{index // 24:02d}:{index % 24:02d}", frame_rate=24.0)
        paths.append(path)
    return paths
