"""Compression damage, the last defect: JPEG per frame (Pillow) or H.264 (PyAV) in closed segments."""

from __future__ import annotations

import io as _bytes_io
from fractions import Fraction

import av
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from restoration.degrade.randomness import STREAM_TAGS, keyed_generator, normal
from restoration.errors import RestorationError
from restoration.luma import REC601_LUMA, luma
from restoration.x264 import x264_options

# H.264 damage is encoded in closed segments of this many frames, aligned to frame numbers.
H264_SEGMENT = 16


def _jpeg(frame: torch.Tensor, quality: int) -> torch.Tensor:
    array = (frame.clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    image = Image.fromarray(array[0].numpy(), "L") if frame.shape[0] == 1 else Image.fromarray(array.permute(1, 2, 0).numpy(), "RGB")
    buffer = _bytes_io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    decoded = np.asarray(Image.open(buffer).convert("L" if frame.shape[0] == 1 else "RGB"))
    decoded = decoded[None] if decoded.ndim == 2 else decoded.transpose(2, 0, 1)
    return torch.from_numpy(decoded.astype(np.float32) / 255.0).to(frame.device)


def _h264_segment(frames: torch.Tensor, crf: int) -> torch.Tensor:
    """Encode and decode (T, C, H, W) with libx264 (yuv420p) as one closed segment."""
    t, channels, h, w = frames.shape
    pad_h, pad_w = h % 2, w % 2
    padded = F.pad(frames, (0, pad_w, 0, pad_h), mode="replicate") if (pad_h or pad_w) else frames
    array = (padded.clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    array = array.expand(-1, 3, -1, -1) if channels == 1 else array
    array = array.permute(0, 2, 3, 1).contiguous().numpy()
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = w + pad_w, h + pad_h
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, 24)
    encoder.framerate = Fraction(24, 1)
    # x264_options: the same bytes from run to run. mbtree=0 is no longer needed for that (it
    # was the part of x264 whose AVX-512 code varied), but kept: every seed's damage, and the
    # figures measured on it, were made without the macroblock tree.
    encoder.options = {"crf": str(int(crf)), "preset": "veryfast", "threads": "1", "g": str(H264_SEGMENT),
                       **x264_options("mbtree=0")}
    packets = []
    for i, picture in enumerate(array):
        # Convert to yuv420p ourselves and hand x264 a fresh frame: left to the encoder's own
        # conversion, x264's output varied from run to run, which would break seeding.
        yuv = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p").to_ndarray()
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = i
        # Copy each packet's bytes at once: a kept encoder packet's buffer can be reused by
        # later encodes, which made decoding vary from run to run.
        packets.extend(bytes(packet) for packet in encoder.encode(frame))
    packets.extend(bytes(packet) for packet in encoder.encode(None))
    decoder = av.CodecContext.create("h264", "r")
    decoded = []
    for data in packets:
        decoded.extend(decoder.decode(av.Packet(data)))
    decoded.extend(decoder.decode(None))
    if len(decoded) != t:
        raise RestorationError(f"H.264 damage returned {len(decoded)} frames for {t}")
    pictures = np.stack([d.to_ndarray(format="rgb24") for d in decoded])[:, :h, :w]
    result = torch.from_numpy(pictures.astype(np.float32) / 255.0).permute(0, 3, 1, 2).to(frames.device)
    return luma(result, weights=REC601_LUMA) if channels == 1 else result  # as the rest of the damage model


def compress(frames: torch.Tensor, params: dict, first_frame: int) -> torch.Tensor:
    kind = params["compression"]
    if "jpeg" in kind:
        out = torch.empty_like(frames)
        for i, n in enumerate(range(first_frame, first_frame + len(frames))):
            gen = keyed_generator(params["seed"], STREAM_TAGS["jpeg"], n)
            quality = int(min(98, max(5, params["jpeg_quality"] + round(4 * normal(gen)))))
            out[i] = _jpeg(frames[i], quality)
        frames = out
    if "h264" in kind:
        out = torch.empty_like(frames)
        start = 0
        while start < len(frames):
            # segments end on multiples of H264_SEGMENT in absolute frame numbers
            end = min(len(frames), start + H264_SEGMENT - (first_frame + start) % H264_SEGMENT)
            out[start:end] = _h264_segment(frames[start:end], params["h264_crf"])
            start = end
        frames = out
    return frames
