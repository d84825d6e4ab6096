"""Delivery encodes with per-shot adaptive quality (H.264, HEVC, AV1 through PyAV's FFmpeg).

``adaptive.encode_adaptive`` encodes each shot at the highest CRF whose quality against the
master keeps a target (``targets``: SSIM, PSNR or XPSNR, measured by ``quality``), found by
``search.search_crf`` in a few encodes, each shot starting on a keyframe, and joins the shots'
packets into one stream. ``codecs`` holds the codecs and presets (``codecs`` and ``targets``
import neither torch nor PyAV, for cheap option checks). The command line is
``python -m restoration encode`` (``cli``).
"""
