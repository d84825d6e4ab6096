"""Quality targets and per-frame quality of an encode against its master.

A target is ``metric:value``: ``ssim`` as ``restoration.compare`` measures it (Rec. 601 luma,
gaussian window, between the master's pictures and the encode decoded back to them), or
``psnr`` / ``xpsnr`` of the luma plane (Y) as FFmpeg's ``psnr`` and ``xpsnr`` filters measure
them, between the master converted to the delivery's YUV and the decoded encode. A shot's
quality is the mean of its frames' values, as ``restoration.compare`` averages a clip.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

import av
import numpy as np
import torch

from restoration.compare import ssim_map
from restoration.encode.targets import PSNR_CAP_DB, QualityTarget

# The delivery picture: 8-bit 4:2:0, BT.709, limited range (what every browser plays).
PIX_FMT = "yuv420p"
COLORSPACE = "ITU709"
_INTERPOLATION = (av.video.reformatter.Interpolation.BICUBIC | av.video.reformatter.Interpolation.ACCURATE_RND
                  | av.video.reformatter.Interpolation.FULL_CHR_H_INT
                  | av.video.reformatter.Interpolation.FULL_CHR_H_INP)


# --------------------------------------------------------------------------------------------
# Pictures: the master's float frames to the delivery's YUV and the decoded YUV back.


def to_delivery_frames(frames: torch.Tensor) -> list[av.VideoFrame]:
    """Master frames (T, C, H, W) in [0, 1] as the delivery's YUV pictures (what the encoder gets
    and what PSNR/XPSNR compare with), tagged BT.709 limited range."""
    # Through 16 bits whatever the master's depth: an 8-bit value k/255 is exactly k * 257.
    channels = frames.shape[1]
    quantised = (frames.detach().float().clamp(0, 1) * 65535.0).round().to(torch.int32).permute(0, 2, 3, 1)
    arrays = quantised.cpu().numpy().astype(np.uint16)
    source_format = "gray16le" if channels == 1 else "rgb48le"
    pictures = []
    for array in arrays:
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(array[:, :, 0] if channels == 1 else array),
                                             format=source_format)
        pictures.append(picture.reformat(format=PIX_FMT, dst_colorspace=COLORSPACE, dst_color_range="MPEG",
                                         interpolation=_INTERPOLATION))
    return pictures


def from_delivery_frames(pictures: Sequence[av.VideoFrame], channels: int) -> torch.Tensor:
    """Decoded delivery pictures back to the master's kind of frames (T, C, H, W) in [0, 1]."""
    target_format = "gray16le" if channels == 1 else "rgb48le"
    arrays = []
    for picture in pictures:
        array = picture.reformat(format=target_format, src_colorspace=COLORSPACE, src_color_range="MPEG",
                                 dst_color_range="JPEG", interpolation=_INTERPOLATION).to_ndarray()
        arrays.append(array[:, :, None] if channels == 1 else array)
    stacked = torch.from_numpy(np.stack(arrays).astype(np.int32)).permute(0, 3, 1, 2).to(torch.float32)
    return stacked / 65535.0


# --------------------------------------------------------------------------------------------
# Measuring


class ShotMeter:
    """Per-frame quality of one shot's encode, fed in order chunk by chunk: ``add(master,
    master_yuv, decoded)`` then ``values``. PSNR/XPSNR run one FFmpeg filter graph for the whole
    shot (XPSNR weighs each frame by its change from the previous one)."""

    def __init__(self, target: QualityTarget, *, width: int, height: int, channels: int):
        self.target = target
        self.channels = channels
        self.values: list[float] = []
        self._graph = None
        self._pushed = 0
        if target.metric != "ssim":
            graph = av.filter.Graph()
            rate = self._rate = Fraction(1, 24)  # the filters count frames; the rate does not matter
            self._reference = graph.add_buffer(width=width, height=height, format=PIX_FMT, time_base=rate)
            self._distorted = graph.add_buffer(width=width, height=height, format=PIX_FMT, time_base=rate)
            compare = graph.add(target.metric)
            self._sink = graph.add("buffersink")
            self._reference.link_to(compare, 0, 0)
            self._distorted.link_to(compare, 0, 1)
            compare.link_to(self._sink)
            graph.configure()
            self._graph = graph

    def add(self, master: torch.Tensor, master_yuv: Sequence[av.VideoFrame], decoded: Sequence[av.VideoFrame]) -> None:
        if self.target.metric == "ssim":
            encoded = from_delivery_frames(decoded, self.channels)
            self.values += ssim_map(master, encoded).flatten(1).mean(1).tolist()
            return
        for reference, distorted in zip(master_yuv, decoded, strict=True):
            for picture in (reference, distorted):
                picture.pts, picture.time_base = self._pushed, self._rate
            self._pushed += 1
            self._reference.push(reference)
            self._distorted.push(distorted)
            self.values += list(self._pull())

    def _pull(self) -> Iterator[float]:
        key = f"lavfi.{self.target.metric}.{self.target.metric}.y"
        while True:
            try:
                frame = self._sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            text = frame.metadata.get(key, "inf")
            value = float(text)
            yield PSNR_CAP_DB if not math.isfinite(value) else min(value, PSNR_CAP_DB)

    def finish(self) -> list[float]:
        """The per-frame values, every frame measured."""
        if self._graph is not None:
            self._reference.push(None)
            self._distorted.push(None)
            self.values += list(self._pull())
            self._graph = None
        return self.values

