"""What review needs besides the frames: proxies rendered ahead at the review size, a thumbnail
and a filmstrip of a span of an asset (a shot of the original scan, or a whole version).

Everything here is a cache of the asset's own frames, built on ``proxies.py``: the thumbnail is
the middle frame's small proxy; the filmstrip (``FILMSTRIP_FRAMES`` small frames side by side,
one JPEG) is kept next to the proxies (``MEDIA_ROOT/proxies/<asset>/filmstrip-<start>-<end>.jpg``)
and made again on demand when missing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from webapp.catalogue.models import MediaAsset
from webapp.catalogue.proxies import (
    PROXY_HEIGHTS,
    proxy_asset_dir,
    proxy_frame,
    proxy_height_for,
    proxy_render,
    write_atomically,
)

REVIEW_HEIGHT = 480
THUMBNAIL_HEIGHT = 240
FILMSTRIP_FRAMES = 8
FILMSTRIP_HEIGHT = 72
FILMSTRIP_JPEG_QUALITY = 82


def review_heights(asset: MediaAsset) -> list[int]:
    """The proxy heights rendered ahead: the review size and, for scans up to 1080 lines, the
    largest standard height of the scan itself (what the viewer asks for at full size)."""
    heights = {proxy_height_for(asset, REVIEW_HEIGHT)}
    if asset.height <= max(PROXY_HEIGHTS):
        heights.add(proxy_height_for(asset, asset.height))
    return sorted(heights)


def previews_render(*, asset: MediaAsset, spans: list[tuple[int, int]] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> None:
    """Render the review proxies of every frame of ``asset``, then the thumbnail and filmstrip of
    each span (``[(start, end)]``, end exclusive; the whole asset by default). Frames already
    on disk are skipped, so running it again (a redelivered job) only finishes what is missing."""
    proxy_render(asset=asset, heights=review_heights(asset), progress=progress)
    for start, end in spans or [(0, asset.frame_count)]:
        thumbnail_jpeg(asset=asset, start=start, end=end)
        filmstrip_jpeg(asset=asset, start=start, end=end)


def thumbnail_jpeg(*, asset: MediaAsset, start: int, end: int) -> bytes:
    """The middle frame of ``start .. end-1`` as a small JPEG (a proxy frame, cached)."""
    return proxy_frame(asset=asset, height=proxy_height_for(asset, THUMBNAIL_HEIGHT), index=start + (end - start) // 2)


def filmstrip_path(asset: MediaAsset, start: int, end: int) -> Path:
    return proxy_asset_dir(asset.pk) / f"filmstrip-{int(start)}-{int(end)}.jpg"


def filmstrip_jpeg(*, asset: MediaAsset, start: int, end: int) -> bytes:
    """``FILMSTRIP_FRAMES`` frames spread evenly over ``start .. end-1``, side by side in one
    JPEG ``FILMSTRIP_HEIGHT`` pixels tall (fewer for a shorter span). Cached."""
    path = filmstrip_path(asset, start, end)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    count = min(FILMSTRIP_FRAMES, end - start)
    indices = [start + (2 * i + 1) * (end - start) // (2 * count) for i in range(count)]
    height = proxy_height_for(asset, THUMBNAIL_HEIGHT)
    frames = [Image.open(io.BytesIO(proxy_frame(asset=asset, height=height, index=i))).convert("RGB")
              for i in indices]
    width = max(2, round(frames[0].width * FILMSTRIP_HEIGHT / frames[0].height))
    strip = Image.new("RGB", (width * count, FILMSTRIP_HEIGHT))
    for n, frame in enumerate(frames):
        strip.paste(frame.resize((width, FILMSTRIP_HEIGHT), Image.Resampling.BILINEAR), (n * width, 0))
    out = io.BytesIO()
    strip.save(out, format="JPEG", quality=FILMSTRIP_JPEG_QUALITY)
    write_atomically(path, out.getvalue())
    return out.getvalue()
