"""Review proxies: every frame of a media asset as a JPEG at a few standard heights, on disk.

One file per frame (``MEDIA_ROOT/proxies/<asset id>/<height>/<index>.jpg``, ``index`` counted
from the asset's first frame) makes review frame-exact and a seek one file read: no decoder
state to rebuild, no GOP to walk. Jobs render them ahead (``proxy_render``); a frame that is
not rendered yet is decoded on demand, a block at a time, and kept (``proxy_frame``).
Files are written under a temporary name and renamed, so a reader never sees half a JPEG.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from webapp.catalogue.models import MediaAsset

PROXY_HEIGHTS = (240, 480, 720, 1080)
PROXY_JPEG_QUALITY = 88
# Decoding on demand costs a seek; one seek fills this many frames, so playback after a miss
# finds the next frames cached.
ON_DEMAND_BLOCK = 24
# A chunk is decoded as float32 (T, C, H, W) before the 8-bit copy: 32 frames of 1080p are 0.8 GB,
# of 8K 14.5 GB. Fewer frames a chunk for larger pictures keep a chunk near this size.
PROXY_DECODE_BYTES = 1024**3


class ProxyError(ValueError):
    """A proxy cannot be made: the asset has no readable video, or the frame is out of range."""


def proxy_height_for(asset: MediaAsset, requested: int) -> int:
    """The height to serve for a request of ``requested`` pixels: the smallest standard height at
    least that tall and below the scan's own; otherwise the scan's own height, up to the largest
    standard one (no upscaled proxies, and a 360-line scan is shown at 360, not 240)."""
    if not asset.height:
        raise ProxyError(f"Asset {asset.pk} has no known frame size.")
    for height in PROXY_HEIGHTS:
        if requested <= height < asset.height:
            return height
    return min(asset.height, PROXY_HEIGHTS[-1])


def proxy_size(asset: MediaAsset, height: int) -> tuple[int, int]:
    """(width, height) of the proxy frames at ``height``, keeping the aspect ratio, width even."""
    width = max(2, int(round(asset.width * height / asset.height / 2)) * 2)
    return width, height


def proxy_asset_dir(asset_id: int) -> Path:
    """Every cached picture of one asset (proxies, filmstrips): removed with the asset."""
    return Path(settings.MEDIA_ROOT) / "proxies" / str(int(asset_id))


def proxy_dir(asset: MediaAsset, height: int) -> Path:
    return proxy_asset_dir(asset.pk) / str(int(height))


def proxy_frame_path(asset: MediaAsset, height: int, index: int) -> Path:
    return proxy_dir(asset, height) / f"{int(index):06d}.jpg"


def _check_index(asset: MediaAsset, index: int) -> None:
    if not asset.frame_count:
        raise ProxyError(f"Asset {asset.pk} has no frames.")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < asset.frame_count:
        raise ProxyError(f"Frame {index!r} is out of range: asset {asset.pk} has frames 0..{asset.frame_count - 1}.")


def _encode_jpeg(frame: np.ndarray, size: tuple[int, int]) -> bytes:
    image = Image.fromarray(frame)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PROXY_JPEG_QUALITY, optimize=False)
    return out.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


def proxy_render(
    *,
    asset: MediaAsset,
    heights: Sequence[int],
    start: int = 0,
    end: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 32,
) -> int:
    """Render the proxy frames ``start .. end-1`` (the whole asset by default) at each of
    ``heights`` that are not on disk yet; returns how many files were written. Decodes once for
    every height, in chunks of at most ``chunk_size`` frames and about ``PROXY_DECODE_BYTES``
    (bounded memory at any picture size); ``progress(done, total)`` after each chunk."""
    from restoration.api import frames_uint8
    from restoration.errors import MediaError

    end = asset.frame_count if end is None else end
    if not asset.frame_count or not 0 <= start < end <= asset.frame_count:
        raise ProxyError(f"Frames {start}..{end} are out of range for asset {asset.pk} ({asset.frame_count} frames).")
    sizes = {height: proxy_size(asset, height) for height in heights}
    missing = [i for i in range(start, end) if any(not proxy_frame_path(asset, h, i).exists() for h in sizes)]
    if not missing:
        return 0
    written, total = 0, end - start
    frame_bytes = asset.width * asset.height * 3 * 4
    chunk_size = max(1, min(chunk_size, PROXY_DECODE_BYTES // max(1, frame_bytes)))
    try:
        for first, arrays in frames_uint8(asset.file.path, start=missing[0], end=missing[-1] + 1,
                                          chunk_size=chunk_size):
            for offset, array in enumerate(arrays):
                for height, size in sizes.items():
                    path = proxy_frame_path(asset, height, first + offset)
                    if not path.exists():
                        write_atomically(path, _encode_jpeg(array, size))
                        written += 1
            if progress is not None:
                progress(min(total, first + len(arrays) - start), total)
    except MediaError as exc:
        raise ProxyError(str(exc)) from None
    return written


def proxy_frame(*, asset: MediaAsset, height: int, index: int) -> bytes:
    """The JPEG of frame ``index`` at ``height`` (a standard height from ``proxy_height_for``),
    decoded and cached on first use together with the next frames of its block."""
    _check_index(asset, index)
    path = proxy_frame_path(asset, height, index)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    proxy_render(asset=asset, heights=[height], start=index, end=min(asset.frame_count, index + ON_DEMAND_BLOCK))
    return path.read_bytes()
