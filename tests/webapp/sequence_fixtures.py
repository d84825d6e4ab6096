"""Tiny image-sequence scans (64x48 DPX and TIFF frames) written with the engine's own writers."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import tifffile

from restoration.sequence import dpx


def ramp_codes(bits: int, *, shift: int, channels: int = 3, size=(48, 64)) -> np.ndarray:
    """(H, W, C) code values of a ramp over the whole range, moving a little from frame to frame."""
    height, width = size
    ramp = np.linspace(0, (1 << bits) - 1, height * width).round().astype(np.int64).reshape(height, width)
    return np.stack([np.roll(ramp, 5 * shift + 7 * c) for c in range(channels)], axis=-1).astype(np.uint16)


def write_dpx_sequence(folder: Path, numbers, *, bits: int = 10, prefix: str = "f_") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, number in enumerate(numbers):
        path = folder / f"{prefix}{number:06d}.dpx"
        dpx.write(path, ramp_codes(bits, shift=index), bits=bits, transfer="logarithmic",
                  timecode=f"01:00:00:{index % 24:02d}", frame_rate=24.0)
        paths.append(path)
    return paths


def write_tiff_sequence(folder: Path, numbers, *, prefix: str = "r_") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, number in enumerate(numbers):
        path = folder / f"{prefix}{number:04d}.tif"
        tifffile.imwrite(path, ramp_codes(16, shift=index, channels=1)[..., 0])
        paths.append(path)
    return paths


def tar_bytes(members: dict[str, bytes], *, symlinks: dict[str, str] | None = None, mode: str = "w") -> bytes:
    """A tar archive of ``name -> content`` (and ``name -> target`` symlinks)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # a symlink, as Info-ZIP stores one
            archive.writestr(info, target)
    return buffer.getvalue()
