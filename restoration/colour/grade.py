"""A grade: an ASC CDL, optionally followed by a 3D LUT, as one layer over a shot's picture.

The JSON form (schema ``restoration.grade``, version 1) is what the project stores and what
the web app's preview reads::

    {"schema": "restoration.grade", "version": 1,
     "cdl": {"slope": [r, g, b], "offset": [r, g, b], "power": [r, g, b], "saturation": s},
     "lut": {"size": 33, "domain_min": [0, 0, 0], "domain_max": [1, 1, 1],
             "table": [[r, g, b], ...]} | null}

``lut.table`` holds size^3 output colours in .cube order (red index changing fastest), so it
uploads as is to a 3D texture. ``grade_load`` also takes a .cube (the LUT alone), and a
.cdl/.cc/.ccc (the CDL alone; a file with several corrections needs an id).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from restoration.colour.cdl import IDENTITY_CDL, Cdl, cdl_apply
from restoration.colour.cdl_files import CDL_EXTENSIONS, cdl_load
from restoration.colour.lut import DEFAULT_SIZE, Lut3d, cube_read, identity_lut, lut_apply, write_atomically
from restoration.errors import SpecError

__all__ = ["Grade", "GradeLayer", "grade_apply", "grade_bake", "grade_load", "grade_save", "GRADE_EXTENSIONS",
           "SCHEMA", "VERSION"]

SCHEMA = "restoration.grade"
VERSION = 1
GRADE_EXTENSIONS = (".json", ".cube", *CDL_EXTENSIONS)


@dataclass(frozen=True)
class Grade:
    """CDL first, then the optional LUT (applied to the CDL's output)."""

    cdl: Cdl = IDENTITY_CDL
    lut: Lut3d | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.cdl, Cdl):
            raise SpecError(f"grade: cdl must be a Cdl, got {type(self.cdl).__name__}")
        if self.lut is not None and not isinstance(self.lut, Lut3d):
            raise SpecError(f"grade: lut must be a Lut3d or None, got {type(self.lut).__name__}")

    def to_dict(self) -> dict:
        lut = None
        if self.lut is not None:
            rows = self.lut.table.transpose(2, 1, 0, 3).reshape(-1, 3)  # red fastest, as in .cube
            lut = {"size": self.lut.size, "domain_min": list(self.lut.domain_min),
                   "domain_max": list(self.lut.domain_max), "table": np.round(rows, 7).tolist()}
        return {"schema": SCHEMA, "version": VERSION, "cdl": self.cdl.to_dict(), "lut": lut}

    @classmethod
    def from_dict(cls, data) -> Grade:
        if not isinstance(data, dict):
            raise SpecError(f"grade must be a JSON object, got {type(data).__name__}")
        if data.get("schema", SCHEMA) != SCHEMA:
            raise SpecError(f"grade: schema is {data.get('schema')!r}, expected {SCHEMA!r}")
        version = data.get("version")
        if version != VERSION:
            raise SpecError(f"grade: version {version!r} is not supported (this engine reads version {VERSION})")
        unknown = sorted(set(data) - {"schema", "version", "cdl", "lut"})
        if unknown:
            raise SpecError(f"grade: unknown field {unknown[0]!r}")
        cdl = Cdl.from_dict(data["cdl"]) if data.get("cdl") is not None else IDENTITY_CDL
        return cls(cdl=cdl, lut=_lut_from_dict(data.get("lut")))


def _lut_from_dict(data) -> Lut3d | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise SpecError(f"grade: lut must be an object or null, got {type(data).__name__}")
    unknown = sorted(set(data) - {"size", "domain_min", "domain_max", "table"})
    if unknown:
        raise SpecError(f"grade: lut: unknown field {unknown[0]!r}")
    size = data.get("size")
    if isinstance(size, bool) or not isinstance(size, int):
        raise SpecError(f"grade: lut size must be a whole number, got {size!r}")
    try:
        rows = np.asarray(data.get("table"), dtype=np.float64)
    except (TypeError, ValueError):
        raise SpecError("grade: lut table must be a list of [r, g, b] numbers") from None
    if rows.shape != (size**3, 3):
        raise SpecError(f"grade: lut table must hold size^3 = {size**3} rows of 3 numbers, got shape {rows.shape}")
    table = rows.reshape(size, size, size, 3).transpose(2, 1, 0, 3)
    try:
        return Lut3d(table, domain_min=data.get("domain_min", (0.0, 0.0, 0.0)),
                     domain_max=data.get("domain_max", (1.0, 1.0, 1.0)))
    except SpecError as exc:
        raise SpecError(f"grade: lut: {exc}") from None


def grade_apply(frames: torch.Tensor, grade: Grade) -> torch.Tensor:
    """Frames (T, C, H, W) through the grade; same device and dtype. A grey input stays grey
    unless the grade tints it (then C = 3)."""
    graded = cdl_apply(frames, grade.cdl)
    return graded if grade.lut is None else lut_apply(graded, grade.lut)


class GradeLayer(torch.nn.Module):
    """Module form of :func:`grade_apply`."""

    def __init__(self, grade: Grade) -> None:
        super().__init__()
        self.grade = grade

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return grade_apply(frames, self.grade)


def grade_bake(grade: Grade, size: int = DEFAULT_SIZE) -> Lut3d:
    """The whole grade as one LUT (for tools that take a .cube only); exact at the lattice points."""
    points = torch.tensor(identity_lut(size).table).permute(3, 0, 1, 2).reshape(1, 3, size, size * size)
    table = grade_apply(points, grade).reshape(3, size, size, size).permute(1, 2, 3, 0).numpy()
    return Lut3d(table, title="grade")


def grade_save(grade: Grade, path: str | os.PathLike) -> None:
    """Write the grade as JSON (whole or not at all)."""
    write_atomically(path, json.dumps(grade.to_dict(), separators=(",", ":")) + "\n")


def grade_load(path: str | os.PathLike, correction_id: str | None = None) -> Grade:
    """A grade from .json, .cube (LUT only) or .cdl/.cc/.ccc (CDL only; ``correction_id`` picks
    one of several). Raises SpecError (one line) for a missing, malformed or out-of-range file."""
    path = Path(path)
    extension = path.suffix.lower()
    if extension not in GRADE_EXTENSIONS:
        raise SpecError(f"{path}: unsupported grade file; use {', '.join(GRADE_EXTENSIONS)}")
    if correction_id is not None and extension not in (".cdl", ".ccc", ".cc"):
        raise SpecError(f"{path}: an id picks a correction in a .cdl/.cc/.ccc file, not in a {extension} file")
    if extension == ".cube":
        return Grade(lut=cube_read(path))
    if extension != ".json":
        return Grade(cdl=cdl_load(path, correction_id))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such grade file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the grade ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text, parse_constant=lambda name: math.nan)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: line {exc.lineno}: malformed JSON ({exc.msg})") from None
    try:
        return Grade.from_dict(data)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
