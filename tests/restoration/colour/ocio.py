"""OpenColorIO as the reference implementation the colour engine is checked against."""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as ocio


def ocio_apply(transform, rgb: np.ndarray) -> np.ndarray:
    """(N, 3) float RGB through an OpenColorIO transform (its CPU processor, float32)."""
    config = ocio.Config.CreateRaw()
    # OPTIMIZATION_LOSSLESS leaves out the fast pow/log approximations (about 1e-5 off).
    processor = config.getProcessor(transform).getOptimizedCPUProcessor(ocio.OPTIMIZATION_LOSSLESS)
    pixels = np.ascontiguousarray(rgb, dtype=np.float32).copy()
    processor.applyRGB(pixels)  # in place
    return pixels
