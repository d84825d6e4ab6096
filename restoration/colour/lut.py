"""3D LUTs: a lattice of N x N x N output colours, applied with trilinear interpolation.

``Lut3d.table[i, j, k]`` is the output (R, G, B) for the input ``domain_min + (i, j, k) /
(N - 1) * (domain_max - domain_min)``, red index first; inputs outside the domain are clamped
to it. Application is ``grid_sample`` on the lattice seen as a 3-channel volume, so it runs on
(T, C, H, W) frames on any device and dtype; it agrees with FFmpeg's ``lut3d`` filter and with
OpenColorIO's trilinear interpolation of the same .cube (see the tests).

Files are the Resolve / IRIDAS ``.cube`` format: ``TITLE "..."``, ``LUT_3D_SIZE N``, optional
``DOMAIN_MIN r g b`` / ``DOMAIN_MAX r g b``, then N^3 rows ``r g b`` with red changing fastest.
Sizes 2..65 are read; the grades this project fits are written with 33 points.
"""

from __future__ import annotations

import math
import os
import shlex
import uuid
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from restoration.colour._frames import as_rgb, check_frames
from restoration.errors import SpecError

__all__ = ["Lut3d", "LutLayer", "lut_apply", "identity_lut", "lut_resample", "cube_read", "cube_write",
           "cube_parse", "cube_text", "MIN_SIZE", "MAX_SIZE", "DEFAULT_SIZE"]

MIN_SIZE, MAX_SIZE = 2, 65
DEFAULT_SIZE = 33
# Pixels interpolated per grid_sample call: bounds the grid's memory on long 4K chunks.
_PIXELS_PER_CALL = 1 << 22


class Lut3d:
    """A 3D LUT: ``table`` (N, N, N, 3) float64 indexed [r, g, b], and its input domain."""

    def __init__(self, table, *, domain_min=(0.0, 0.0, 0.0), domain_max=(1.0, 1.0, 1.0), title: str = "") -> None:
        table = np.array(table, dtype=np.float64)
        if table.ndim != 4 or table.shape[3] != 3 or not table.shape[0] == table.shape[1] == table.shape[2]:
            raise SpecError(f"3D LUT table must be (N, N, N, 3), got shape {table.shape}")
        if not MIN_SIZE <= table.shape[0] <= MAX_SIZE:
            raise SpecError(f"3D LUT size must be {MIN_SIZE}..{MAX_SIZE}, got {table.shape[0]}")
        if not np.isfinite(table).all():
            raise SpecError("3D LUT table holds non-finite values")
        low, high = np.array(domain_min, dtype=np.float64), np.array(domain_max, dtype=np.float64)
        if low.shape != (3,) or high.shape != (3,) or not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise SpecError(f"3D LUT domain must be three finite numbers each, got {domain_min!r} .. {domain_max!r}")
        if not (high > low).all():
            raise SpecError(f"3D LUT domain maximum must be above the minimum, got {low.tolist()} .. {high.tolist()}")
        table.flags.writeable = False
        self.table = table
        self.domain_min = tuple(low.tolist())
        self.domain_max = tuple(high.tolist())
        self.title = str(title)

    @property
    def size(self) -> int:
        return self.table.shape[0]

    def __eq__(self, other) -> bool:
        return (isinstance(other, Lut3d) and self.domain_min == other.domain_min
                and self.domain_max == other.domain_max and np.array_equal(self.table, other.table))

    def __hash__(self) -> int:
        return hash((self.size, self.domain_min, self.domain_max, self.table.tobytes()))

    def __repr__(self) -> str:
        return f"Lut3d(size={self.size}, domain={self.domain_min}..{self.domain_max}, title={self.title!r})"

    @property
    def preserves_grey(self) -> bool:
        """True when every grey input (r = g = b in the domain) gives a grey output.

        Trilinear interpolation at (v, v, v) inside diagonal cell i weighs the cell's corners by
        f^a (1 - f)^(3 - a), a = how many of the corner's indices are i + 1; those polynomials
        are independent, so the output is grey for every v exactly when, in every diagonal cell,
        the corners with the same a add up to a grey.
        """
        if len(set(self.domain_min)) != 1 or len(set(self.domain_max)) != 1:
            return False
        n = self.size
        for i in range(n - 1):
            for ones in range(4):
                total = np.zeros(3)
                for corner in np.ndindex(2, 2, 2):
                    if sum(corner) == ones:
                        total += self.table[i + corner[0], i + corner[1], i + corner[2]]
                if np.ptp(total) > 1e-9:
                    return False
        return True


def identity_lut(size: int = DEFAULT_SIZE) -> Lut3d:
    """The LUT that changes nothing (exactly, with trilinear interpolation)."""
    axis = np.linspace(0.0, 1.0, size)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return Lut3d(np.stack([r, g, b], axis=-1))


def _sample(volume: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
    """Trilinear lookup: volume (1, 3, N_b, N_g, N_r), rgb (P, 3) in [0, 1] -> (P, 3)."""
    grid = (rgb * 2.0 - 1.0).view(1, 1, 1, -1, 3)  # grid (x, y, z) indexes (W=r, H=g, D=b)
    out = F.grid_sample(volume, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out.view(3, -1).T


def lut_apply(frames: torch.Tensor, lut: Lut3d) -> torch.Tensor:
    """Frames (T, C, H, W) through the LUT, trilinear; same device and dtype; returns C = 3
    (grey input is broadcast to RGB), or C = 1 when the input is grey and the LUT keeps grey grey."""
    check_frames(frames, "lut")
    rgb = as_rgb(frames)
    t, _, h, w = rgb.shape
    low = rgb.new_tensor(lut.domain_min).view(1, 3, 1, 1)
    high = rgb.new_tensor(lut.domain_max).view(1, 3, 1, 1)
    normalised = ((rgb - low) / (high - low)).clamp(0.0, 1.0)
    volume = torch.tensor(lut.table, dtype=rgb.dtype, device=rgb.device).permute(3, 2, 1, 0)[None].contiguous()
    pixels = normalised.permute(0, 2, 3, 1).reshape(-1, 3)
    out = torch.cat([_sample(volume, part) for part in pixels.split(_PIXELS_PER_CALL)])
    out = out.view(t, h, w, 3).permute(0, 3, 1, 2).contiguous()
    if frames.shape[1] == 1 and lut.preserves_grey:
        return out[:, :1].contiguous()
    return out


class LutLayer(torch.nn.Module):
    """Module form of :func:`lut_apply`."""

    def __init__(self, lut: Lut3d) -> None:
        super().__init__()
        self.lut = lut

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return lut_apply(frames, self.lut)


def lut_resample(lut: Lut3d, size: int = DEFAULT_SIZE) -> Lut3d:
    """The LUT evaluated (trilinear) on a size-point lattice over the same domain."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SpecError(f"3D LUT size must be {MIN_SIZE}..{MAX_SIZE}, got {size}")
    if size == lut.size:
        return lut
    axis = torch.linspace(0.0, 1.0, size, dtype=torch.float64)
    points = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), dim=-1).reshape(-1, 3)
    volume = torch.tensor(lut.table).permute(3, 2, 1, 0)[None].contiguous()
    table = _sample(volume, points).reshape(size, size, size, 3).numpy()
    return Lut3d(table, domain_min=lut.domain_min, domain_max=lut.domain_max, title=lut.title)


# ---------------------------------------------------------------------------------------------
# .cube files


def _numbers(words: list[str], count: int, path: Path, number: int, what: str) -> list[float]:
    if len(words) != count:
        raise SpecError(f"{path}: line {number}: {what} needs {count} numbers, got {len(words)}")
    try:
        values = [float(word) for word in words]
    except ValueError:
        raise SpecError(f"{path}: line {number}: {what} must be numbers, got {' '.join(words)!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise SpecError(f"{path}: line {number}: {what} holds a non-finite number")
    return values


def cube_read(path: str | os.PathLike) -> Lut3d:
    """Read a Resolve/IRIDAS .cube 3D LUT. Malformed files raise SpecError naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such LUT file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the LUT ({exc.__class__.__name__}: {exc})") from None
    return cube_parse(text, path)


def cube_parse(text: str, path: str | os.PathLike = "LUT") -> Lut3d:
    """A .cube file's text as a Lut3d; ``path`` only names the file in messages (an upload's
    name). Malformed text raises SpecError naming the line."""
    size: int | None = None
    title = ""
    domain_min, domain_max = [0.0] * 3, [1.0] * 3
    rows: list[list[float]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        keyword = words[0].upper()
        if keyword[0].isalpha():
            if rows:
                raise SpecError(f"{path}: line {number}: keyword {words[0]} after the table started")
            if keyword == "TITLE":
                try:
                    title = " ".join(shlex.split(line[5:]))
                except ValueError:
                    raise SpecError(f"{path}: line {number}: unterminated TITLE quote") from None
            elif keyword == "LUT_3D_SIZE":
                if len(words) != 2 or not words[1].isdigit():
                    raise SpecError(f"{path}: line {number}: LUT_3D_SIZE needs one whole number, got {line!r}")
                size = int(words[1])
                if not MIN_SIZE <= size <= MAX_SIZE:
                    raise SpecError(f"{path}: line {number}: LUT_3D_SIZE must be {MIN_SIZE}..{MAX_SIZE}, got {size}")
            elif keyword == "DOMAIN_MIN":
                domain_min = _numbers(words[1:], 3, path, number, "DOMAIN_MIN")
            elif keyword == "DOMAIN_MAX":
                domain_max = _numbers(words[1:], 3, path, number, "DOMAIN_MAX")
            elif keyword == "LUT_3D_INPUT_RANGE":  # Resolve's older spelling of a common domain
                low, high = _numbers(words[1:], 2, path, number, "LUT_3D_INPUT_RANGE")
                domain_min, domain_max = [low] * 3, [high] * 3
            elif keyword == "LUT_1D_SIZE":
                raise SpecError(f"{path}: line {number}: a 1D LUT; only 3D LUTs (LUT_3D_SIZE) are supported")
            else:
                raise SpecError(f"{path}: line {number}: unknown keyword {words[0]!r}")
            continue
        if size is None:
            raise SpecError(f"{path}: line {number}: table row before LUT_3D_SIZE")
        rows.append(_numbers(words, 3, path, number, "a table row"))
        if len(rows) > size**3:
            raise SpecError(f"{path}: line {number}: more than the {size**3} rows LUT_3D_SIZE {size} needs")
    if size is None:
        raise SpecError(f"{path}: no LUT_3D_SIZE line (not a 3D .cube file)")
    if len(rows) != size**3:
        raise SpecError(f"{path}: {len(rows)} table rows, LUT_3D_SIZE {size} needs {size**3}")
    # Red changes fastest: row index = r + N g + N^2 b, so the rows reshape to [b, g, r].
    table = np.asarray(rows, dtype=np.float64).reshape(size, size, size, 3).transpose(2, 1, 0, 3)
    try:
        return Lut3d(table, domain_min=domain_min, domain_max=domain_max, title=title)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def cube_text(lut: Lut3d, *, title: str | None = None) -> str:
    """The .cube file's text for ``lut``."""
    name = (lut.title if title is None else title).replace('"', "'").replace("\n", " ")
    lines = [f'TITLE "{name}"', f"LUT_3D_SIZE {lut.size}",
             "DOMAIN_MIN " + " ".join(f"{v:.10g}" for v in lut.domain_min),
             "DOMAIN_MAX " + " ".join(f"{v:.10g}" for v in lut.domain_max)]
    rows = lut.table.transpose(2, 1, 0, 3).reshape(-1, 3)  # [b, g, r]: red fastest
    lines += [f"{r:.8f} {g:.8f} {b:.8f}" for r, g, b in rows.tolist()]
    return "\n".join(lines) + "\n"


def write_atomically(path: str | os.PathLike, text: str) -> None:
    """Write text to a temporary name in the same folder, then rename: no partial file is left."""
    path = Path(path)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.partial"
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SpecError(f"{path}: cannot write ({exc.strerror or exc})") from None


def cube_write(lut: Lut3d, path: str | os.PathLike, *, title: str | None = None, size: int | None = None) -> None:
    """Write ``lut`` as a .cube file (``size``: resample to that many points first)."""
    if size is not None:
        lut = lut_resample(lut, size)
    write_atomically(path, cube_text(lut, title=title))
