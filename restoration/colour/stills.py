"""Reference stills: a colourist's graded pictures, read as (C, H, W) float frames.

8- or 16-bit, grey or colour (PNG, TIFF, JPEG, anything Pillow reads); alpha is dropped and a
palette picture is read as the colours it shows. ``still_probe`` answers what a still is without
decoding it into a tensor (and without torch), so a web request can refuse a bad upload cheaply.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, UnidentifiedImageError

from restoration.errors import MediaError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["MAX_STILL_SIDE", "MIN_STILL_SIDE", "StillInfo", "still_probe", "still_read"]

MIN_STILL_SIDE = 16
MAX_STILL_SIDE = 16384
_GREY_MODES = ("L", "I;16", "I;16B", "I;16L", "I")
_KEPT_MODES = ("L", "RGB", "I;16", "I;16B", "I;16L", "I")


@dataclass(frozen=True)
class StillInfo:
    """What a still is: its size, ``channels`` (1 grey, 3 colour) and ``bit_depth`` (8 or 16)."""

    width: int
    height: int
    channels: int
    bit_depth: int
    format: str


def _open(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except FileNotFoundError:
        raise MediaError(f"{path}: no such still") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(f"{path}: not a readable image ({exc.__class__.__name__})") from None


def _check_size(path: Path, width: int, height: int) -> None:
    if not (MIN_STILL_SIDE <= width <= MAX_STILL_SIDE and MIN_STILL_SIDE <= height <= MAX_STILL_SIDE):
        raise MediaError(f"{path}: the still is {width}x{height}; each side must be {MIN_STILL_SIDE} to "
                         f"{MAX_STILL_SIDE} pixels")


def still_probe(path: str | os.PathLike) -> StillInfo:
    """Size, channels and bit depth of a still, from its header (and a full decode check).
    Raises MediaError (one line, naming the file) for a file that is not a usable still."""
    path = Path(path)
    image = _open(path)
    with image:
        width, height, mode, kind = image.width, image.height, image.mode, image.format or "image"
        _check_size(path, width, height)
        pictures = getattr(image, "n_frames", 1)
        if pictures > 1:
            raise MediaError(f"{path}: holds {pictures} pictures; a still is one picture")
        try:
            image.verify()  # the whole file is read: a truncated still is refused now, not in the fit
        except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a broken file
            raise MediaError(f"{path}: a damaged {kind} file ({exc.__class__.__name__})") from None
    channels = 1 if mode in _GREY_MODES or mode in ("1", "LA") else 3
    bit_depth = 16 if mode.startswith("I") else 8
    return StillInfo(width=width, height=height, channels=channels, bit_depth=bit_depth, format=kind)


def still_read(path: str | os.PathLike) -> torch.Tensor:
    """A reference still as (C, H, W) float in [0, 1]: 8- or 16-bit, grey or colour (alpha dropped)."""
    import torch  # here: probing a still (a web request) needs no torch

    path = Path(path)
    try:
        with _open(path) as image:
            _check_size(path, image.width, image.height)
            image.load()
            if image.mode not in _KEPT_MODES:
                image = image.convert("RGB")  # palette, alpha, CMYK...: as the picture looks
            array = np.asarray(image)
            mode = image.mode
    except (UnidentifiedImageError, OSError) as exc:
        raise MediaError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    if mode.startswith("I;16") or mode == "I":
        values = array.astype(np.float64) / 65535.0
    elif array.dtype == np.uint8:
        values = array.astype(np.float64) / 255.0
    else:
        raise MediaError(f"{path}: unsupported image mode {mode}; use 8- or 16-bit grey or RGB")
    values = values[None] if values.ndim == 2 else values.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(values)).float()
