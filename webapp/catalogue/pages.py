"""Server-rendered catalogue pages: the catalogue of films, a film's page (where archivists invite
people), and the invitations page (where the invited accept or decline).

Every page is login-only and reads through ``page_selectors`` (which start from the films the
user may see), so another film is a 404. The pages work without JavaScript; the modules in
``frontend/static/js/catalogue/`` add live filtering, keyboard use and live job progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.catalogue import page_selectors, selectors, services
from webapp.catalogue.access import Action, can
from webapp.catalogue.models import FilmStatus, MediaAsset, Role, ShotStatus
from webapp.catalogue.timecode import timecode


@dataclass(frozen=True)
class MetricScale:
    """How to draw one defect metric: ``visible`` is where the defect starts to show (the bar turns
    red), ``full`` fills the bar. Levels follow restoration/analysis/metrics.py's notes."""

    key: str
    label: str
    visible: float
    full: float
    unit: str = ""


DEFECT_METRICS = (
    MetricScale("noise", "Noise", visible=3.0, full=8.0, unit=" (8-bit std)"),
    MetricScale("dust", "Dust", visible=0.001, full=0.01, unit=" of pixels"),
    MetricScale("scratch", "Scratches", visible=0.5, full=3.0, unit=" per frame"),
    MetricScale("flicker", "Flicker", visible=0.01, full=0.04),
    MetricScale("weave", "Weave", visible=0.5, full=2.0, unit=" px"),
    MetricScale("blockiness", "Blocking", visible=0.25, full=0.6),
)

# A film page shows this many shot cards at a time (a feature has 500-2000 shots; each card is a
# thumbnail and a few small charts, so all of them at once would be megabytes of HTML).
SHOTS_PER_PAGE = 240

# Segments of the catalogue's stacked progress bar, in the order they are drawn, with short labels.
PROGRESS_SEGMENTS = {
    ShotStatus.APPROVED: "approved",
    ShotStatus.IN_REVIEW: "in review",
    ShotStatus.CHANGES_REQUESTED: "changes",
    ShotStatus.IN_RESTORATION: "restoring",
    ShotStatus.REJECTED: "rejected",
}


def defect_bars(metrics: dict) -> list[dict]:
    """The shot's defect metrics as bars: fraction of the bar, severity (ok/warn/bad) and a tooltip."""
    bars = []
    for scale in DEFECT_METRICS:
        value = metrics.get(scale.key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        value = max(0.0, float(value))
        severity = "bad" if value >= scale.visible else "warn" if value >= scale.visible / 2 else "ok"
        shown = f"{value * 100:.2g} %" if scale.key == "dust" else f"{value:.3g}"
        bars.append({
            "key": scale.key, "label": scale.label, "severity": severity,
            "percent": round(min(1.0, value / scale.full) * 100, 1),
            "title": f"{scale.label}: {shown}{'' if scale.key == 'dust' else scale.unit} "
                     f"(visible from {scale.visible:g})",
        })
    return bars


# The cast swatch exaggerates the shot's average channel balance this much, so that a cast of a few
# per cent (already visible on neutrals) shows on a 10 px swatch.
CAST_SWATCH_GAIN = 4.0


def _channel_gains(metrics: dict) -> tuple[float, float, float] | None:
    gains = [metrics.get(f"{channel}_gain") for channel in ("red", "green", "blue")]
    if not all(isinstance(gain, int | float) and not isinstance(gain, bool) and gain > 0 for gain in gains):
        return None
    return gains[0], gains[1], gains[2]


def colour_summary(metrics: dict) -> dict | None:
    """The analysis' colour advice for a shot card: its notes (the engine's ``colour_notes``, each a
    short label with the whole note as its tooltip) and, for a colour picture, a swatch of its
    average balance (exaggerated; neutral grey when balanced). None before the shot is analysed."""
    notes = metrics.get("colour_notes")
    if not isinstance(notes, list):
        return None
    labels = []
    for note in notes:
        if isinstance(note, str) and note:
            # "colour cast of 7.2 (8-bit chroma units)" -> "Colour cast of 7.2"; "low contrast: ..." -> "Low contrast"
            short = note.split(" (")[0].split(":")[0].strip()
            labels.append({"label": short[:1].upper() + short[1:], "title": note})
    swatch = ""
    gains = _channel_gains(metrics)
    if metrics.get("is_grey") is False and gains:
        balance = [1 / gain for gain in gains]  # channel mean / grey level
        mean = sum(balance) / 3
        levels = [min(1.0, max(0.0, 0.5 + CAST_SWATCH_GAIN * (value / mean - 1) / 2)) for value in balance]
        swatch = "#" + "".join(f"{round(level * 255):02x}" for level in levels)
    return {"grey": metrics.get("is_grey") is True, "swatch": swatch, "notes": labels,
            "balance": " ".join(f"{name} {1 / gain:.2f}" for name, gain in zip("RGB", gains, strict=True)) if gains else ""}


def _query_without(params, *names: str) -> str:
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_GET
def home_page(request: HttpRequest) -> HttpResponse:
    """The catalogue: the films the user works on, filtered and sorted by the query string."""
    found = page_selectors.film_search(user=request.user, params=request.GET)
    films = list(found.films)
    counts = page_selectors.shot_status_counts(film_ids=[film.pk for film in films])
    for film in films:
        film.progress_percent = round(100 * film.approved_shot_count / film.shot_count) if film.shot_count else 0
        film.status_counts = counts[film.pk]
        film.segments = [
            {"status": status, "label": ShotStatus(status).label, "short": short, "count": counts[film.pk][status],
             "percent": 100 * counts[film.pk][status] / film.shot_count if film.shot_count else 0}
            for status, short in PROGRESS_SEGMENTS.items()
        ]
    # Column headers link to the same filters with the other ordering.
    sort_base = _query_without(request.GET, "ordering")
    columns = {}
    for key in page_selectors.FILM_ORDERINGS:
        current = found.ordering.lstrip("-") == key
        descending = found.ordering.startswith("-")
        target = f"-{key}" if current and not descending else key
        columns[key] = {
            "href": "?" + "&".join(part for part in (sort_base, f"ordering={target}") if part),
            "sort": ("descending" if descending else "ascending") if current else "",
        }
    total_shots = sum(film.shot_count for film in films)
    approved_shots = sum(film.approved_shot_count for film in films)
    filters_active = any(request.GET.get(name) for name in ("search", "status", "year_min", "year_max", "decade",
                                                              "director"))
    context = {
        "films": films,
        "errors": found.errors,
        "params": request.GET,
        "statuses": FilmStatus.choices,
        "facets": page_selectors.catalogue_facets(user=request.user),
        "columns": columns,
        "filters_active": filters_active,
        "totals": {
            "films": len(films),
            "shots": total_shots,
            "approved": approved_shots,
            "in_review": sum(film.status_counts[ShotStatus.IN_REVIEW] for film in films),
            "percent": round(100 * approved_shots / total_shots) if total_shots else 0,
        },
    }
    # Bad filters are the client's mistake: say so (400) on a page that still lets them fix it.
    return render(request, "catalogue/home.html", context, status=400 if found.errors else 200)


# DPX transfer characteristics as a colourist says them.
TRANSFER_WORDS = {"logarithmic": "log", "printing-density": "log (printing density)", "linear": "linear"}


def scan_summary(asset: MediaAsset) -> str:
    """One line saying what a scan is: ``DPX 10-bit log, frames 86400-86519, 2048x1556`` for an
    image sequence, ``FFV1 16-bit, 1920x1080, 2400 frames`` for a video file."""
    size = f"{asset.width}x{asset.height}" if asset.width else ""
    if asset.is_sequence:
        transfer = TRANSFER_WORDS.get(asset.sequence_transfer, asset.sequence_transfer)
        kind = " ".join(filter(None, [asset.sequence_format.upper(), f"{asset.sequence_bits}-bit", transfer]))
        return ", ".join(filter(None, [kind, f"frames {asset.sequence_first}-{asset.sequence_last}", size]))
    depth = f"{asset.bit_depth}-bit" if asset.bit_depth else ""
    frames = f"{asset.frame_count} frames" if asset.frame_count else ""
    return ", ".join(filter(None, [" ".join(filter(None, [asset.codec.upper(), depth])), size, frames]))


def transition_label(transition: dict | None) -> str:
    """"dissolve 24 f" for the boundary into a shot (a cut is just "cut"); "" when unknown."""
    if not transition:
        return ""
    length = transition["end_frame"] - transition["start_frame"] + 1
    return transition["type"] if transition["type"] == "cut" else f"{transition['type']} {length} f"


@login_required
@require_GET
def film_detail_page(request: HttpRequest, film_id: int) -> HttpResponse:
    """A film: facts, members, progress, and its shots (a page of them, optionally of one status)
    as a grid or filmstrip with batch actions."""
    film = page_selectors.film_for_page(user=request.user, film_id=film_id)
    errors: list[str] = []
    status_filter = request.GET.get("status", "")
    if status_filter and status_filter not in ShotStatus.values:
        errors.append(f"status: '{status_filter}' is not one of {', '.join(ShotStatus.values)}.")
        status_filter = ""
    page_number = request.GET.get("page", "1")
    if not page_number.isdigit() or int(page_number) < 1:
        errors.append("page: must be a page number from 1.")
        page_number = "1"
    view = request.GET.get("view", "grid")
    if view not in ("grid", "strip"):
        errors.append("view: must be grid or strip.")
        view = "grid"

    shots = page_selectors.film_shots(user=request.user, film=film)
    if status_filter:
        shots = shots.filter(status=status_filter)
    paginator = Paginator(shots, SHOTS_PER_PAGE)
    if int(page_number) > paginator.num_pages:
        raise Http404("No such page of shots.")
    page = paginator.page(int(page_number))
    for shot in page.object_list:
        shot.defects = defect_bars(shot.metrics or {})
        shot.colour = colour_summary(shot.metrics or {})
        # As the shot's review page counts: a scan's own file numbers and timecode where it has them.
        numbering = selectors.shot_numbering(shot=shot, film_start=film.frame_number_start)
        shot.timecode_in = timecode(numbering.timecode_start, shot.fps)
        shot.scan_timecode = numbering.scan_timecode
        shot.scan_numbers = numbering.source_numbers
        shot.transition_label = transition_label(shot.transition_in)
        shot.duration_seconds = shot.frame_count / shot.fps
        # The middle frame of the original (JOBS' preview endpoint), when the shot has a scan.
        shot.thumb_url = reverse("shot-preview", args=[shot.pk, "thumbnail"]) if shot.source_id else ""
    status_counts = page_selectors.shot_status_counts(film_ids=[film.pk])[film.pk]
    frames = page_selectors.film_frames(film=film)
    context = {
        "film": film,
        "shots": page.object_list,
        "page": page,
        "errors": errors,
        "members": page_selectors.film_members(film=film),
        "scans": [{"id": scan.pk, "name": scan.original_name, "summary": scan_summary(scan), "sequence": scan.is_sequence}
                  for scan in page_selectors.film_scans(film=film)],
        "status_filters": [
            {"value": value, "label": label, "count": status_counts[value]} for value, label in ShotStatus.choices
        ],
        "status_filter": status_filter,
        "view": view,
        "can_restore": can(user=request.user, film_id=film.pk, action=Action.PUBLISH, role=film.my_role),
        "can_invite": can(user=request.user, film_id=film.pk, action=Action.MANAGE_MEMBERS, role=film.my_role),
        "roles": Role.choices,
        "invited": request.GET.get("invited") == "1",
        "progress_percent": round(100 * film.approved_shot_count / film.shot_count) if film.shot_count else 0,
        "total_frames": frames["total"],
        "runtime_timecode": timecode(frames["total"], frames["fps"]) if frames["total"] else "",
    }
    return render(request, "catalogue/film_detail.html", context, status=400 if errors else 200)



@login_required
@require_POST
def film_invite_page(request: HttpRequest, film_id: int) -> HttpResponse:
    """The film page's invite form (archivists): the same answer whether or not the account exists."""
    film = page_selectors.film_for_page(user=request.user, film_id=film_id)
    if not can(user=request.user, film_id=film.pk, action=Action.MANAGE_MEMBERS, role=film.my_role):
        raise PermissionDenied("Only the film's archivists invite people.")
    try:
        services.invitation_create(film=film, invited_by=request.user, invitee=request.POST.get("invitee", ""),
                                   role=request.POST.get("role", ""))
    except ValidationError as error:
        return render(request, "catalogue/invitation_error.html", {"film": film, "errors": error.messages}, status=400)
    return redirect(f"{reverse('film-detail', args=[film.pk])}?invited=1")


@login_required
@require_GET
def invitations_page(request: HttpRequest) -> HttpResponse:
    """What you are invited to, with accept and decline."""
    return render(request, "catalogue/invitations.html",
                  {"invitations": selectors.invitations_pending_for(user=request.user)})


@login_required
@require_POST
def invitation_answer_page(request: HttpRequest, invitation_id: int, answer: str) -> HttpResponse:
    invitation = selectors.invitations_pending_for(user=request.user).filter(pk=invitation_id).first()
    if invitation is None or answer not in ("accept", "decline"):
        raise Http404("No such invitation waiting for you.")
    if answer == "accept":
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as error:
            return render(request, "catalogue/invitations.html", {
                "invitations": selectors.invitations_pending_for(user=request.user), "errors": error.messages,
            }, status=400)
        return redirect("film-detail", film_id=invitation.film_id)
    services.invitation_decline(invitation=invitation, user=request.user)
    return redirect("invitations")
