"""Image sequences: what reading and writing scan frames costs, per format, at 2K and 4K.

Each case writes a few frames of a smooth full-range picture through ``SequenceWriter`` (the
restore command's writer: float frames quantised to the format's depth) and reads them back
through ``iter_chunks`` (the engine's reader: code values to float32), in a temporary folder;
``probe`` is timed on the written sequence (every frame's header checked, first call, uncached).
Milliseconds per frame, wall time, median of the frames' rates over the runs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from restoration.bench import median
from restoration.bench.restore import Timer

FRAMES = 4
RUNS = 3
# (name, pattern, (format, bits) the writer is given through a source sequence, sizes)
CASES = (
    ("DPX 10-bit log", "f_%06d.dpx", ("dpx", 10), ("2K", "4K")),
    ("DPX 12-bit", "f_%06d.dpx", ("dpx", 12), ("2K",)),
    ("DPX 16-bit", "f_%06d.dpx", ("dpx", 16), ("2K",)),
    ("TIFF 16-bit", "f_%06d.tif", ("tiff", 16), ("2K", "4K")),
    ("PNG 16-bit", "f_%06d.png", ("png", 16), ("2K",)),
    ("EXR half", "f_%06d.exr", ("exr", 16), ("2K",)),
)
SIZES = {"2K": (1556, 2048), "4K": (3112, 4096)}


def _like(folder: Path, extension: str, format_and_bits: tuple[str, int]):
    """A one-frame sequence of the case's layout: the writer copies its depth and transfer, as
    ``restore`` does from its source."""
    import numpy as np

    from restoration.sequence import find
    from restoration.sequence.formats import FrameLayout, write_values

    format_name, bits = format_and_bits
    folder.mkdir()
    sample = "float" if format_name == "exr" else "uint"
    layout = FrameLayout(format_name, 8, 8, 3, bits, sample, "logarithmic" if format_name == "dpx" else None, True)
    write_values(folder / f"s_0{extension}", np.zeros((8, 8, 3), np.float32 if sample == "float" else np.uint16), layout)
    return find(folder)


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    from restoration.io import iter_chunks, probe
    from restoration.sequence import SequenceWriter

    frames, runs = (2, 1) if quick else (FRAMES, RUNS)
    warm_up = Path(tempfile.mkdtemp(prefix="bench-sequences-"))
    try:  # imports and first allocations, outside the timings
        _like(warm_up / "like", ".dpx", ("dpx", 10))
        list(iter_chunks(warm_up / "like", 1))
    finally:
        shutil.rmtree(warm_up, ignore_errors=True)
    rows = []
    for name, pattern, format_and_bits, sizes in CASES:
        for size_name in sizes[:1] if quick else sizes:
            height, width = (48, 64) if quick else SIZES[size_name]
            ramp = torch.linspace(0, 1, height * width).reshape(1, 1, height, width)
            clip = torch.cat([ramp, ramp.flip(-1), ramp.flip(-2)], dim=1).expand(frames, 3, height, width)
            writes, reads, probes = [], [], []
            for _ in range(runs):
                folder = Path(tempfile.mkdtemp(prefix="bench-sequences-"))
                try:
                    like = _like(folder / "like", Path(pattern).suffix, format_and_bits)
                    writer = SequenceWriter(folder / "out" / pattern, fps=24.0, bit_depth=16, source=like,
                                            carry_headers=False)
                    with Timer() as timer, writer:
                        for frame in clip:
                            writer.write(frame)
                    writes.append(timer.wall * 1000 / frames)
                    with Timer() as timer:
                        info = probe(folder / "out")
                    probes.append(timer.wall * 1000)
                    with Timer() as timer:
                        for _, chunk in iter_chunks(info.path, 2):
                            del chunk
                    reads.append(timer.wall * 1000 / frames)
                    megabytes = sum(path.stat().st_size for path in (folder / "out").iterdir()) / frames / 1e6
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
            rows.append({
                "format": name, "size": f"{width}x{height} RGB", "MB/frame": megabytes,
                "write ms/frame": median(writes), "read ms/frame": median(reads),
                f"probe ms ({frames} frames)": median(probes),
            })
    return {"Engine: image sequences, write and read per frame (SequenceWriter, iter_chunks)": rows}
