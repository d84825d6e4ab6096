"""Review proxies: frame-exact JPEGs at standard heights, rendered ahead or on demand."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from restoration.io import probe, write_video
from webapp.catalogue import proxies
from webapp.catalogue.models import AssetKind
from webapp.catalogue.services import asset_create


def _numbered_clip(path, frames=30, height=96, width=128):
    """Each frame's brightness encodes its number, so a proxy's frame can be identified."""
    clip = torch.zeros(frames, 1, height, width)
    for i in range(frames):
        clip[i] = (i * 8 + 4) / 255.0
    write_video(path, clip, fps=24, codec="ffv1")
    return path


@pytest.fixture
def asset(film, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "scans").mkdir()
    path = _numbered_clip(tmp_path / "scans" / "clip.mkv")
    info = probe(path)
    return asset_create(
        film=film, kind=AssetKind.ORIGINAL, file="scans/clip.mkv", original_name="clip.mkv",
        size_bytes=path.stat().st_size, container=info.container, codec=info.codec, width=info.width,
        height=info.height, fps=info.fps, frame_count=info.frame_count, bit_depth=info.bit_depth,
        pix_fmt=info.pix_fmt, duration=info.duration,
    )


def _brightness(jpeg: bytes) -> float:
    return float(np.asarray(Image.open(io.BytesIO(jpeg)).convert("L")).mean())


@pytest.mark.django_db
def test_frame_on_demand_is_the_asked_frame_and_fills_its_block(asset):
    jpeg = proxies.proxy_frame(asset=asset, height=96, index=17)
    assert abs(_brightness(jpeg) - (17 * 8 + 4)) < 2
    assert proxies.proxy_frame_path(asset, 96, 17 + 1).exists()  # the next frames come with it
    assert not proxies.proxy_frame_path(asset, 96, 16).exists()


@pytest.mark.django_db
def test_render_writes_every_frame_once_at_the_proxy_size(asset):
    assert proxies.proxy_render(asset=asset, heights=[48]) == 30
    assert proxies.proxy_render(asset=asset, heights=[48]) == 0
    image = Image.open(proxies.proxy_frame_path(asset, 48, 29))
    assert image.size == (64, 48)
    assert abs(_brightness(proxies.proxy_frame(asset=asset, height=48, index=29)) - (29 * 8 + 4)) < 2
    assert not list(proxies.proxy_dir(asset, 48).glob(".*.tmp"))


@pytest.mark.django_db
def test_several_heights_come_from_one_decode(asset, monkeypatch):
    import restoration.io

    decodes = []
    real = restoration.io.iter_chunks
    monkeypatch.setattr(restoration.io, "iter_chunks", lambda *a, **k: decodes.append(k) or real(*a, **k))
    proxies.proxy_render(asset=asset, heights=[48], start=0, end=10)
    assert proxies.proxy_render(asset=asset, heights=[48, 96]) == 30 - 10 + 30
    assert len(decodes) == 2  # the second call decoded the clip once for both heights
    for height, size in ((48, (64, 48)), (96, (128, 96))):
        assert Image.open(proxies.proxy_frame_path(asset, height, 29)).size == size
        assert abs(_brightness(proxies.proxy_frame(asset=asset, height=height, index=7)) - (7 * 8 + 4)) < 2


@pytest.mark.django_db
def test_out_of_range_frames_are_refused(asset):
    for bad in (-1, 30, "3", True):
        with pytest.raises(proxies.ProxyError):
            proxies.proxy_frame(asset=asset, height=96, index=bad)
    assert not proxies.proxy_dir(asset, 96).exists()


@pytest.mark.django_db
def test_height_choice_never_upscales(asset):
    assert proxies.proxy_height_for(asset, 60) == 96  # no standard height fits under 96: the scan's own
    asset.height = 1080
    assert proxies.proxy_height_for(asset, 300) == 480
    assert proxies.proxy_height_for(asset, 2000) == 1080
    asset.height = 500
    assert proxies.proxy_height_for(asset, 600) == 500  # the scan's own height beats a smaller standard one
    assert proxies.proxy_height_for(asset, 300) == 480
    asset.height = 2160
    assert proxies.proxy_height_for(asset, 2000) == 1080


@pytest.mark.django_db
def test_larger_pictures_are_decoded_in_fewer_frames_a_chunk(asset, monkeypatch):
    """The decode's memory stays bounded whatever the frame size (a 16K scan once ran out of it)."""
    import restoration.io

    chunk_sizes = []
    real = restoration.io.iter_chunks
    monkeypatch.setattr(restoration.io, "iter_chunks", lambda path, size, **k: chunk_sizes.append(size) or real(
        path, size, **k))
    monkeypatch.setattr(proxies, "PROXY_DECODE_BYTES", asset.width * asset.height * 3 * 4 * 5)  # five frames
    assert proxies.proxy_render(asset=asset, heights=[48]) == 30
    assert chunk_sizes == [5]
    monkeypatch.setattr(proxies, "PROXY_DECODE_BYTES", 1024**3)
    assert proxies.proxy_render(asset=asset, heights=[96]) == 30
    assert chunk_sizes == [5, 32]  # small frames keep the usual chunk
