"""What a participant may say on the session socket, checked before anything changes.

Client messages are JSON objects with a ``type``:

- ``{"type": "state", "changes": {...}}`` (host only): any of ``index`` (playlist position),
  ``frame``, ``playing``, ``a``, ``b``, ``mode``, ``wipe``, ``showing``, ``zoom``, ``pan_x``, ``pan_y``,
  ``grade`` (the look being adjusted: ``{"cdl": {...}, "base": grade id | null}`` or null).
- ``{"type": "heartbeat"}`` every ~15 s, or the participant drops out of the presence list.
- ``{"type": "control.request"}``: ask the host for control.
- ``{"type": "control.hand_over", "to": <user id>}`` (host only): give control to a participant.
- ``{"type": "control.take"}``: a member takes control while the host is not connected.

A bad message raises ``SocketError`` (code and a sentence naming the problem); the consumer
answers it with ``{"type": "error", ...}`` and nothing changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from webapp.live.state import now_ms
from webapp.realtime import SocketError, json_object_parse

MAX_MESSAGE_BYTES = 4096
MODES = ("side", "wipe", "toggle", "diff")
ZOOM_RANGE = (0.05, 64.0)
PAN_RANGE = (-100.0, 100.0)
STATE_KEYS = frozenset({"index", "frame", "playing", "a", "b", "mode", "wipe", "showing", "zoom", "pan_x", "pan_y",
                        "grade"})
# The engine's CDL limits (restoration/colour/cdl.py, docs/API.md "Grades"): what a grade may hold.
CDL_RANGES = {"slope": (0.0, 100.0), "offset": (-10.0, 10.0), "power": (0.0, 100.0)}
SATURATION_RANGE = (0.0, 100.0)
MESSAGE_KEYS = {
    "state": frozenset({"type", "changes"}),
    "heartbeat": frozenset({"type"}),
    "control.request": frozenset({"type"}),
    "control.hand_over": frozenset({"type", "to"}),
    "control.take": frozenset({"type"}),
}


@dataclass(frozen=True)
class Message:
    type: str
    body: dict[str, Any]


def message_parse(text: str | None, bytes_data: bytes | None = None) -> Message:
    """The message's type and body, its shape checked (not yet against the session's state)."""
    body = json_object_parse(text, max_bytes=MAX_MESSAGE_BYTES)
    kind = body.get("type")
    if kind not in MESSAGE_KEYS:
        raise SocketError("unknown_type", f"Unknown message type {kind!r}; expected one of {sorted(MESSAGE_KEYS)}.")
    unknown = sorted(set(body) - MESSAGE_KEYS[kind])
    if unknown:
        raise SocketError("invalid", f"Unknown keys in a {kind!r} message: {unknown}.")
    if kind == "state" and (not isinstance(body.get("changes"), dict) or not body["changes"]):
        raise SocketError("invalid", "'changes' must be a non-empty object.")
    if kind == "control.hand_over" and not _is_int(body.get("to")):
        raise SocketError("invalid", "'to' must be the user id of a participant.")
    return Message(type=kind, body=body)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(changes: dict, key: str, low: float, high: float) -> float:
    value = changes[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SocketError("invalid", f"'{key}' must be a number.")
    if not low <= value <= high:
        raise SocketError("out_of_range", f"'{key}' must be between {low} and {high}; got {value}.")
    return float(value)


def grade_state_check(value: Any) -> dict[str, Any] | None:
    """The shared look of a live session: null (none), or ``{"cdl": {"slope": [r, g, b], "offset":
    [...], "power": [...], "saturation": s}, "base": grade id | null}`` within the engine's limits
    (power above 0). ``base`` names the grade whose LUT follows the CDL; each participant fetches it
    through the API, which decides whether they may see it."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"cdl", "base"} or "cdl" not in value:
        raise SocketError("invalid", "'grade' must be null or {\"cdl\": {...}, \"base\": grade id or null}.")
    base = value.get("base")
    if base is not None and (not _is_int(base) or base < 1):
        raise SocketError("invalid", "'grade.base' must be a grade id or null.")
    cdl = value["cdl"]
    if not isinstance(cdl, dict) or set(cdl) != {"slope", "offset", "power", "saturation"}:
        raise SocketError("invalid", "'grade.cdl' must have exactly slope, offset, power and saturation.")
    checked: dict[str, Any] = {}
    for key, (low, high) in CDL_RANGES.items():
        triple = cdl[key]
        if not isinstance(triple, list) or len(triple) != 3:
            raise SocketError("invalid", f"'grade.cdl.{key}' must be three numbers (R, G, B).")
        values = []
        for number in triple:
            if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
                raise SocketError("invalid", f"'grade.cdl.{key}' must be three finite numbers.")
            if not low <= number <= high or (key == "power" and number <= 0):
                bound = "above 0 and at most" if key == "power" else f"between {low} and"
                raise SocketError("out_of_range", f"'grade.cdl.{key}' values must be {bound} {high}; got {number}.")
            values.append(float(number))
        checked[key] = values
    saturation = cdl["saturation"]
    if isinstance(saturation, bool) or not isinstance(saturation, int | float) or not math.isfinite(saturation):
        raise SocketError("invalid", "'grade.cdl.saturation' must be a finite number.")
    if not SATURATION_RANGE[0] <= saturation <= SATURATION_RANGE[1]:
        raise SocketError("out_of_range", f"'grade.cdl.saturation' must be between {SATURATION_RANGE[0]} and "
                                          f"{SATURATION_RANGE[1]}; got {saturation}.")
    checked["saturation"] = float(saturation)
    return {"cdl": checked, "base": base}


def state_changes_resolve(changes: dict[str, Any], *, state: dict[str, Any],
                          playlist: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields to write for a host's ``changes``, validated against the playlist and the
    current state. Moving to another playlist item starts it from frame 0, paused, comparing the
    original with the item's version, unless the same message says otherwise."""
    unknown = sorted(set(changes) - STATE_KEYS)
    if unknown:
        raise SocketError("invalid", f"Unknown state fields: {unknown}; allowed: {sorted(STATE_KEYS)}.")
    resolved: dict[str, Any] = {}
    index = min(state["index"], len(playlist) - 1)  # versions deleted since the session started
    if "index" in changes:
        index = changes["index"]
        if not _is_int(index):
            raise SocketError("invalid", "'index' must be an integer (a playlist position).")
        if not 0 <= index < len(playlist):
            raise SocketError("out_of_range",
                               f"Playlist position {index} does not exist (0 to {len(playlist) - 1}).")
        if index != state["index"]:
            item = playlist[index]
            resolved.update(index=index, frame=0, playing=False, started_at=None, a="original",
                            b=f"v{item['version_number']}", grade=None)
    item = playlist[index]
    if "frame" in changes:
        frame = changes["frame"]
        if not _is_int(frame):
            raise SocketError("invalid", "'frame' must be an integer.")
        if not 0 <= frame < item["frame_count"]:
            raise SocketError("out_of_range",
                               f"Frame {frame} is outside shot {item['shot_number']} (frames 0 to "
                               f"{item['frame_count'] - 1}).")
        resolved["frame"] = frame
    if "playing" in changes:
        if not isinstance(changes["playing"], bool):
            raise SocketError("invalid", "'playing' must be true or false.")
        resolved["playing"] = changes["playing"]
    source_ids = {source["id"] for source in item["sources"]}
    for key in ("a", "b"):
        if key in changes:
            if changes[key] not in source_ids:
                raise SocketError("unknown_source",
                                   f"'{key}': {changes[key]!r} is not a source of shot {item['shot_number']} "
                                   f"(one of {sorted(source_ids)}).")
            resolved[key] = changes[key]
    if "mode" in changes:
        if changes["mode"] not in MODES:
            raise SocketError("invalid", f"'mode' must be one of {list(MODES)}.")
        resolved["mode"] = changes["mode"]
    if "showing" in changes:
        if changes["showing"] not in ("a", "b"):
            raise SocketError("invalid", "'showing' must be 'a' or 'b'.")
        resolved["showing"] = changes["showing"]
    if "wipe" in changes:
        resolved["wipe"] = _number(changes, "wipe", 0.0, 1.0)
    if "zoom" in changes:
        resolved["zoom"] = _number(changes, "zoom", *ZOOM_RANGE)
    for key in ("pan_x", "pan_y"):
        if key in changes:
            resolved[key] = _number(changes, key, *PAN_RANGE)
    if "grade" in changes:
        resolved["grade"] = grade_state_check(changes["grade"])
    # The playhead runs from ``frame`` at ``started_at`` (server clock): restamp whenever either moves.
    playing = resolved.get("playing", state["playing"])
    if playing and ("playing" in resolved or "frame" in resolved):
        resolved["started_at"] = now_ms()
    elif not playing:
        resolved["started_at"] = None
    return resolved


def initial_state(*, host_id: int, playlist: list[dict[str, Any]]) -> dict[str, Any]:
    first = playlist[0]
    return {
        "index": 0, "frame": 0, "playing": False, "started_at": None, "a": "original",
        "b": f"v{first['version_number']}", "mode": "wipe", "wipe": 0.5, "showing": "a", "zoom": 1.0,
        "pan_x": 0.0, "pan_y": 0.0, "grade": None, "host": host_id,
    }
