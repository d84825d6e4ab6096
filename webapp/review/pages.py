"""The shot review page: the comparison viewer on one shot, with the comments and decisions panels.

Its initial data (shot, sources, versions, user, role) goes to the browser as one JSON block; the
frames themselves come over ``ws/shots/<id>/frames/``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import render

from webapp.catalogue.access import Action, can, film_role
from webapp.catalogue.models import Shot, ShotVersion, VersionStatus
from webapp.catalogue.selectors import shot_numbering, shot_transitions
from webapp.review.frames import ORIGINAL, frame_sources, shot_for_viewer


def _query_source(request: HttpRequest, key: str, names: list[str], default: str | None) -> str | None:
    value = request.GET.get(key)
    if value is None:
        return default
    if value not in names:
        raise ValueError(f"'{key}' must name a source of this shot ({', '.join(names) or 'none has frames'}); "
                         f"got '{value[:40]}'.")
    return value


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return "/".join(_param_text(item) for item in value)
    return str(value)


def pipeline_summary(spec: Any) -> list[dict[str, str]]:
    """A version's stored pipeline spec, readable: each op with its parameters ("strength 1.2,
    radius 1"), then the retime if any. Stored specs are old or hand-made too: anything that is not
    a step is left out rather than shown wrong."""
    if not isinstance(spec, dict):
        return []
    ops = spec.get("ops")
    steps = []
    if ops == "analysis":
        steps.append({"op": "analysis", "params": "ops chosen per shot by the analysis"})
    elif isinstance(ops, list):
        for step in ops:
            if not isinstance(step, dict) or not isinstance(step.get("op"), str):
                continue
            params = step.get("params") if isinstance(step.get("params"), dict) else {}
            steps.append({"op": step["op"], "params": ", ".join(
                f"{str(name).replace('_', ' ')} {_param_text(value)}" for name, value in params.items())})
    retime = spec.get("retime")
    if isinstance(retime, dict) and isinstance(retime.get("fps"), int | float):
        steps.append({"op": "retime", "params": f"to {_param_text(float(retime['fps']))} fps"
                                                + (f", {retime['method']}" if isinstance(retime.get("method"), str) else "")})
    return steps


@login_required
def shot_review_page(request: HttpRequest, film_id: int, shot_id: int) -> HttpResponse:
    shot = shot_for_viewer(user=request.user, shot_id=shot_id)
    if shot is None or shot.film_id != film_id:
        raise Http404("No such shot.")
    sources = frame_sources(shot=shot)
    names = [source.name for source in sources]
    versions = list(ShotVersion.objects.filter(shot=shot).order_by("number"))
    latest = next((s.name for s in reversed(sources) if s.name != ORIGINAL), None)
    default_a = ORIGINAL if ORIGINAL in names else (names[0] if names else None)
    try:
        a = _query_source(request, "a", names, default_a)
        b = _query_source(request, "b", names, latest or default_a)
        raw_frame = request.GET.get("frame", "0")
        if not raw_frame.isdigit() or int(raw_frame) >= shot.frame_count:
            raise ValueError(f"'frame' must be a frame of this shot, 0..{shot.frame_count - 1}.")
        frame = int(raw_frame)
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")

    status_by_version = {v.pk: v.get_status_display() for v in versions}
    numbering = shot_numbering(shot=shot, film_start=shot.film.frame_number_start)
    data = {
        # The film's start number (each shot's frame 0 shows as it, unless the scan numbers its own).
        "film": {"id": shot.film_id, "title": shot.film.title, "frame_number_start": shot.film.frame_number_start,
                 "may_edit": can(user=request.user, film_id=shot.film_id, action=Action.EDIT_FILM)},
        "shot": {"id": shot.pk, "number": shot.number, "status": shot.status, "fps": shot.fps,
                 "frame_count": shot.frame_count, "start_frame": shot.start_frame},
        # What the viewer shows (display only; frames stay counted from 0): shot frame f as
        # start_number + f (an image sequence's own file numbers, else the film's start number), at
        # the timecode of frame timecode_start + f (the scan's own where it has one, else the film's).
        "numbering": numbering.viewer_fields(),
        # The dissolves, wipes and fades in and out of the shot, in the shot's frames (the timeline's).
        "transitions": [{**t, "start_frame": t["start_frame"] - shot.start_frame, "end_frame": t["end_frame"] - shot.start_frame}
                        for t in shot_transitions(shot=shot)],
        "sources": [
            {"id": s.name, "label": s.label, "status": s.status,
             "status_label": status_by_version.get(s.version_id, "Original"), "version_id": s.version_id,
             "frame_count": s.frame_count, "width": s.asset.width, "height": s.asset.height}
            for s in sources
        ],
        "versions": [{"id": v.pk, "number": v.number, "status": v.status, "label": f"v{v.number}",
                      "has_media": v.media_id is not None} for v in versions],
        "a": a,
        "b": b,
        "frame": frame,
        "user": {"id": request.user.pk, "username": request.user.get_username()},
        "role": film_role(user=request.user, film_id=shot.film_id) or ("staff" if request.user.is_staff else None),
        "csrf": get_token(request),
        "frames_socket": f"/ws/shots/{shot.pk}/frames/",
        # Decisions arrive live with a version's new status; the page relabels its sources with these.
        "version_status_labels": dict(VersionStatus.choices),
    }
    siblings = Shot.objects.filter(film_id=shot.film_id).only("pk", "number")
    previous_shot = siblings.filter(number__lt=shot.number).order_by("-number").first()
    next_shot = siblings.filter(number__gt=shot.number).order_by("number").first()
    for version in versions:
        version.pipeline = pipeline_summary(version.pipeline_spec)
    return render(request, "review/shot.html", {"data": data, "shot": shot, "film": shot.film, "versions": versions,
                                                "previous_shot": previous_shot, "next_shot": next_shot,
                                                "numbering": numbering})

