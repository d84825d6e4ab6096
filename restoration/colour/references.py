"""Synthetic grading references, for tests and the bench: what a colourist hands over.

A reference still comes from another transfer of the film than the scan being graded: it is
framed a few pixels differently, its picture is a few percent larger, and it is an 8-bit,
JPEG-compressed file. ``reference_still`` makes one from a graded frame; ``known_look`` is a
grade that no CDL can express exactly (a CDL, then a hue-dependent twist and an S-curve), so a
fit must find the CDL part and leave the rest to the residual LUT.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from restoration.colour.cdl import Cdl, cdl_apply

__all__ = ["KNOWN_CDL", "known_look", "reference_still", "jpeg_8bit"]

# A warm, contrasty print look.
KNOWN_CDL = Cdl(slope=(1.12, 1.0, 0.86), offset=(0.015, -0.005, 0.02), power=(0.92, 1.0, 1.12), saturation=1.25)


def known_look(frames: torch.Tensor, cdl: Cdl = KNOWN_CDL, twist: float = 1.0) -> torch.Tensor:
    """``cdl`` then a mild non-CDL curve: a gentle S on luma-like contrast and a hue-dependent
    shift (greens pushed toward cyan, skin toward orange), scaled by ``twist``."""
    graded = cdl_apply(frames, cdl)
    r, g, b = graded.unbind(dim=1)
    s_curve = graded + 0.06 * twist * torch.sin(2 * torch.pi * graded) * (graded * (1 - graded)) * 4
    green_excess = (g - torch.maximum(r, b)).clamp_min(0)
    red_excess = (r - torch.maximum(g, b)).clamp_min(0)
    shift = torch.stack([0.15 * red_excess - 0.1 * green_excess, -0.05 * red_excess,
                         0.25 * green_excess - 0.1 * red_excess], dim=1)
    return (s_curve + twist * shift).clamp(0, 1)


def jpeg_8bit(image: torch.Tensor, quality: int = 85) -> torch.Tensor:
    """(C, H, W) in [0, 1] through 8 bits and JPEG (Pillow, 4:2:0) and back to float."""
    array = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    mode = "L" if image.shape[0] == 1 else "RGB"
    picture = Image.fromarray(array[0].numpy() if mode == "L" else array.permute(1, 2, 0).numpy(), mode)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=int(quality))
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert(mode))
    decoded = decoded[None] if decoded.ndim == 2 else decoded.transpose(2, 0, 1)
    return torch.from_numpy(decoded.astype(np.float32) / 255.0)


def reference_still(graded: torch.Tensor, *, shift: tuple[float, float] = (3.0, -2.0), zoom: float = 1.03,
                    size_factor: float = 1.0, quality: int | None = 85) -> torch.Tensor:
    """A reference still (C, h, w) of a graded frame (C, H, W) from "another transfer".

    Its picture is magnified by ``zoom`` about a centre moved by ``shift`` frame pixels (x, y),
    it is ``size_factor`` times the frame's pixel size, then 8-bit JPEG at ``quality`` (None:
    float, uncompressed).
    """
    channels, height, width = graded.shape
    out_h, out_w = round(height * size_factor), round(width * size_factor)
    # Still pixel p shows frame point centre + shift + (p - still centre) / zoom (normalised).
    theta = torch.tensor([[[1.0 / zoom, 0.0, 2.0 * shift[0] / width], [0.0, 1.0 / zoom, 2.0 * shift[1] / height]]],
                         dtype=torch.float32)
    grid = F.affine_grid(theta, [1, channels, out_h, out_w], align_corners=False)
    still = F.grid_sample(graded[None].float(), grid, mode="bicubic", padding_mode="reflection",
                          align_corners=False)[0].clamp(0, 1)
    return still if quality is None else jpeg_8bit(still, quality)
