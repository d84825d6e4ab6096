"""Frames of a shot for the comparison viewer: which media holds a source, and the frame requests.

A shot's sources are its original (``shot.source``, the whole scan: shot frame f is asset frame
``shot.start_frame + f``) and each version with media (``v<N>``, holding only the shot: shot
frame f is asset frame f, or for a version retimed to another rate the asset frame on screen at
f's time, ``webapp.catalogue.timecode.media_frame``). A source is always named within ONE shot,
so a request can never reach another shot's or another film's media. Frames come from the review proxies
(``webapp/catalogue/proxies.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from webapp.catalogue.models import MediaAsset, Shot, ShotVersion
from webapp.catalogue.proxies import proxy_frame, proxy_height_for
from webapp.catalogue.selectors import shot_list
from webapp.catalogue.timecode import media_frame, rate_ratio, shot_frames_covered
from webapp.realtime import SocketError, json_object_parse

ORIGINAL = "original"
VERSION_SOURCE = re.compile(r"^v([1-9][0-9]{0,8})$")
MAX_MESSAGE_BYTES = 4096
MAX_FRAMES_PER_REQUEST = 48
MAX_HEIGHT = 4320
MAX_REQUEST_ID = 2**53 - 1  # a JavaScript number stays exact up to here


class FrameRequestError(SocketError):
    """A frame request that is refused, answered with the ``request`` id it names (if any)."""

    def __init__(self, code: str, detail: str, request: int | None = None):
        super().__init__(code, detail, request=request)


@dataclass(frozen=True)
class FrameSource:
    """One comparable picture of a shot: ``name`` is ``original`` or ``v<N>``."""

    name: str
    label: str
    status: str
    asset: MediaAsset
    asset_offset: int  # asset frame of shot frame 0
    frame_count: int  # shot frames 0..frame_count-1 that this media holds
    version_id: int | None = None
    rate_ratio: float = 1.0  # media frames per shot frame (not 1 for a retimed version)

    def asset_index(self, frame: int) -> int:
        """The asset frame on screen at shot frame ``frame``'s time."""
        return self.asset_offset + media_frame(frame, self.rate_ratio)


@dataclass(frozen=True)
class FrameRequest:
    request: int
    source: str
    start: int
    count: int
    height: int


@dataclass(frozen=True)
class CancelRequest:
    request: int | None  # None cancels everything in flight


def shot_for_viewer(*, user: AbstractBaseUser | AnonymousUser, shot_id: int) -> Shot | None:
    """The shot with its film and scan, when the user may view its film; None when it does not
    exist for them (missing, or of a film they are not a member of: the same answer)."""
    return shot_list(user=user).select_related("film", "source").filter(pk=shot_id).first()


def _frames_held(asset: MediaAsset | None, offset: int, shot_frames: int, ratio: float = 1.0) -> int:
    if asset is None or not asset.frame_count or not asset.height:
        return 0
    return max(0, min(shot_frames, shot_frames_covered(asset.frame_count - offset, ratio)))


def frame_sources(*, shot: Shot) -> list[FrameSource]:
    """The shot's sources that have frames to show: the original first, then versions by number."""
    sources: list[FrameSource] = []
    held = _frames_held(shot.source, shot.start_frame, shot.frame_count)
    if held:
        sources.append(FrameSource(name=ORIGINAL, label="Original scan", status="original", asset=shot.source,
                                   asset_offset=shot.start_frame, frame_count=held))
    versions = ShotVersion.objects.filter(shot=shot, media__isnull=False).select_related("media").order_by("number")
    for version in versions:
        # A retimed version is shown at the shot's frame times (its frame on screen then).
        ratio = rate_ratio(shot.fps, version.media.fps)
        held = _frames_held(version.media, 0, shot.frame_count, ratio)
        if held:
            label = f"v{version.number}" if ratio == 1.0 else f"v{version.number} ({version.media.fps:g} fps)"
            sources.append(FrameSource(
                name=f"v{version.number}", label=label, status=version.status, asset=version.media,
                asset_offset=0, frame_count=held, version_id=version.pk, rate_ratio=ratio,
            ))
    return sources


def _require_int(message: dict, key: str, low: int, high: int, request: int | None) -> int:
    value = message.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FrameRequestError("invalid", f"'{key}' must be an integer.", request)
    if not low <= value <= high:
        raise FrameRequestError("invalid", f"'{key}' must be between {low} and {high}; got {value}.", request)
    return value


FRAMES_KEYS = frozenset({"type", "request", "source", "start", "count", "height"})
CANCEL_KEYS = frozenset({"type", "request"})


def frame_message_parse(text: str | None) -> FrameRequest | CancelRequest:
    """Validate one client message (JSON text, at most MAX_MESSAGE_BYTES): a ``frames`` request
    or a ``cancel``. Source names and frame ranges are checked against the shot later."""
    try:
        message = json_object_parse(text, max_bytes=MAX_MESSAGE_BYTES)
    except SocketError as error:
        # This socket has always answered unreadable messages with "invalid"; its clients expect it.
        raise FrameRequestError("invalid" if error.code == "malformed" else error.code, error.detail) from None
    kind = message.get("type")
    if kind not in ("frames", "cancel"):
        raise FrameRequestError("invalid", "'type' must be 'frames' or 'cancel'.")
    allowed = FRAMES_KEYS if kind == "frames" else CANCEL_KEYS
    raw_request = message.get("request")
    request = raw_request if isinstance(raw_request, int) and not isinstance(raw_request, bool) else None
    unknown = sorted(set(message) - allowed)
    if unknown:
        raise FrameRequestError("invalid", f"Unknown keys: {', '.join(map(str, unknown))}.", request)
    if kind == "cancel":
        if "request" not in message:
            return CancelRequest(request=None)
        return CancelRequest(request=_require_int(message, "request", 0, MAX_REQUEST_ID, None))
    request = _require_int(message, "request", 0, MAX_REQUEST_ID, None)
    source = message.get("source")
    if not isinstance(source, str) or not (source == ORIGINAL or VERSION_SOURCE.match(source)):
        raise FrameRequestError("invalid", "'source' must be 'original' or 'v<N>'.", request)
    return FrameRequest(
        request=request,
        source=source,
        start=_require_int(message, "start", 0, 10**9, request),
        count=_require_int(message, "count", 1, MAX_FRAMES_PER_REQUEST, request),
        height=_require_int(message, "height", 16, MAX_HEIGHT, request),
    )


def frame_request_resolve(*, sources: dict[str, FrameSource], request: FrameRequest) -> tuple[FrameSource, int]:
    """The source a request names and the proxy height to serve it at, or FrameRequestError
    when the source is not one of this shot's or the range falls outside its frames."""
    source = sources.get(request.source)
    if source is None:
        raise FrameRequestError("unknown_source", f"This shot has no source '{request.source}' with frames.",
                                request.request)
    last = request.start + request.count - 1
    if last >= source.frame_count:
        raise FrameRequestError(
            "out_of_range",
            f"Frames {request.start}..{last} are out of range: '{source.name}' has frames 0..{source.frame_count - 1}.",
            request.request,
        )
    return source, proxy_height_for(source.asset, request.height)


def frame_jpeg(*, source: FrameSource, frame: int, height: int) -> bytes:
    """The JPEG of shot frame ``frame`` of ``source`` at a standard proxy height (blocking: disk
    read, or a decode when the proxy is not rendered yet)."""
    return proxy_frame(asset=source.asset, height=height, index=source.asset_index(frame))


def frame_message_pack(*, request: int, source: str, frame: int, height: int, jpeg: bytes) -> bytes:
    """A binary frame message: 4-byte big-endian header length, the UTF-8 JSON header, the JPEG."""
    header = json.dumps({"request": request, "source": source, "frame": frame, "height": height},
                        separators=(",", ":")).encode()
    return len(header).to_bytes(4, "big") + header + jpeg
