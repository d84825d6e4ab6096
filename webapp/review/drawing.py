"""The vector drawing attached to a comment, validated the same way by the API and websockets.

A drawing is a JSON list of shapes drawn over the frame. Coordinates are normalised to the
frame: x from 0 (left) to 1 (right), y from 0 (top) to 1 (bottom), so a drawing fits any
proxy size. Every shape has a ``type`` and may have a ``colour`` (``#rgb`` or ``#rrggbb``) and
a stroke ``width`` (a fraction of the frame's width, 0 < width <= 0.1):

    {"type": "freehand", "points": [[x, y], ...]}        2..MAX_POINTS points
    {"type": "arrow", "from": [x, y], "to": [x, y]}
    {"type": "rect", "x": x, "y": y, "w": w, "h": h}    stays inside the frame
    {"type": "text", "x": x, "y": y, "text": "..."}     1..MAX_TEXT characters

Unknown types or keys are refused: the message names the place, e.g. ``shapes[2].points[5]``.
A drawing is at most MAX_SHAPES shapes, MAX_TOTAL_POINTS points and MAX_DRAWING_BYTES of JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_SHAPES = 200
MAX_POINTS = 2000
MAX_TOTAL_POINTS = 20000
MAX_TEXT = 500
# The browser rounds coordinates to 4 decimals: a full drawing of 20,000 points is about 320 KB.
MAX_DRAWING_BYTES = 512 * 1024
MAX_WIDTH = 0.1
COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")

COMMON_KEYS = frozenset({"type", "colour", "width"})
SHAPE_KEYS = {
    "freehand": frozenset({"points"}),
    "arrow": frozenset({"from", "to"}),
    "rect": frozenset({"x", "y", "w", "h"}),
    "text": frozenset({"x", "y", "text"}),
}


class DrawingError(ValueError):
    """The drawing is malformed; the message says where and why, in one line."""


def _unit(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DrawingError(f"{where}: expected a number, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise DrawingError(f"{where}: {value} is outside the frame (coordinates run from 0 to 1)")
    return float(value)


def _point(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise DrawingError(f"{where}: expected a point [x, y]")
    return _unit(value[0], f"{where}[0]"), _unit(value[1], f"{where}[1]")


def _shape(shape: Any, where: str) -> int:
    """Validate one shape; return how many points it holds (for the total budget)."""
    if not isinstance(shape, dict):
        raise DrawingError(f"{where}: expected an object with a type")
    kind = shape.get("type")
    if kind not in SHAPE_KEYS:
        raise DrawingError(f"{where}.type: must be one of {', '.join(SHAPE_KEYS)}, got {kind!r}")
    required = SHAPE_KEYS[kind]
    unknown = set(shape) - required - COMMON_KEYS
    if unknown:
        raise DrawingError(f"{where}: unknown key {sorted(unknown)[0]!r} for a {kind}")
    missing = required - set(shape)
    if missing:
        raise DrawingError(f"{where}: a {kind} needs {sorted(missing)[0]!r}")
    if "colour" in shape and not (isinstance(shape["colour"], str) and COLOUR.fullmatch(shape["colour"])):
        raise DrawingError(f"{where}.colour: expected a hex colour like #ff8800, got {shape['colour']!r}")
    if "width" in shape:
        width = shape["width"]
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= MAX_WIDTH:
            raise DrawingError(f"{where}.width: expected a number above 0 and at most {MAX_WIDTH}")

    if kind == "freehand":
        points = shape["points"]
        if not isinstance(points, list) or not 2 <= len(points) <= MAX_POINTS:
            raise DrawingError(f"{where}.points: expected a list of 2 to {MAX_POINTS} points")
        for index, point in enumerate(points):
            _point(point, f"{where}.points[{index}]")
        return len(points)
    if kind == "arrow":
        _point(shape["from"], f"{where}.from")
        _point(shape["to"], f"{where}.to")
        return 2
    x, y = _unit(shape["x"], f"{where}.x"), _unit(shape["y"], f"{where}.y")
    if kind == "rect":
        w, h = _unit(shape["w"], f"{where}.w"), _unit(shape["h"], f"{where}.h")
        if x + w > 1.0 + 1e-9 or y + h > 1.0 + 1e-9:
            raise DrawingError(f"{where}: the rectangle reaches outside the frame")
        return 4
    text = shape["text"]
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise DrawingError(f"{where}.text: expected 1 to {MAX_TEXT} characters")
    return 1


def validate_drawing(drawing: Any) -> list[dict[str, Any]]:
    """Return the drawing unchanged when valid; raise ``DrawingError`` otherwise."""
    if not isinstance(drawing, list):
        raise DrawingError("expected a list of shapes")
    if len(drawing) > MAX_SHAPES:
        raise DrawingError(f"too many shapes: {len(drawing)} (at most {MAX_SHAPES})")
    size = len(json.dumps(drawing, separators=(",", ":")))
    if size > MAX_DRAWING_BYTES:
        raise DrawingError(f"the drawing is {size} bytes of JSON (at most {MAX_DRAWING_BYTES})")
    total = 0
    for index, shape in enumerate(drawing):
        total += _shape(shape, f"shapes[{index}]")
    if total > MAX_TOTAL_POINTS:
        raise DrawingError(f"too many points in all: {total} (at most {MAX_TOTAL_POINTS})")
    return drawing
