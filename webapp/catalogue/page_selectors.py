"""Reads for the server-rendered catalogue pages (catalogue and film page), built on ``selectors``
so that every queryset still starts from the films the user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, NullIf
from django.http import Http404, QueryDict

from webapp.catalogue import selectors
from webapp.catalogue.filters import FilmFilter
from webapp.catalogue.models import AssetKind, Film, MediaAsset, Membership, Shot, ShotStatus, ShotVersion
from webapp.catalogue.selectors import User

# The catalogue's sortable columns: query value -> ordering (a leading "-" reverses it).
FILM_ORDERINGS: dict[str, tuple] = {
    "title": ("title", "id"),
    "year": ("year", "title", "id"),
    "director": ("directors", "title", "id"),
    "status": ("status", "title", "id"),
    "shots": ("shot_count", "title", "id"),
    "progress": ("progress_ratio", "title", "id"),
}
DEFAULT_FILM_ORDERING = "title"


@dataclass
class FilmQuery:
    """The catalogue's filters as the user sent them, checked."""

    films: QuerySet[Film]
    errors: list[str]
    ordering: str


def _order(queryset: QuerySet[Film], ordering: str) -> QuerySet[Film]:
    descending = ordering.startswith("-")
    fields = FILM_ORDERINGS[ordering.lstrip("-")]
    first, rest = fields[0], fields[1:]
    primary = F(first).desc(nulls_last=True) if descending else F(first).asc(nulls_last=True)
    return queryset.order_by(primary, *rest)


def filterset_apply(filterset) -> tuple[QuerySet, list[str]]:
    """The filterset's rows, or none of them and its problems as "field: message" lines: a page
    shows a bad filter's reason next to its form rather than failing."""
    if filterset.is_valid():
        return filterset.qs, []
    problems = [f"{field}: {message}" for field, messages in filterset.errors.items() for message in messages]
    return filterset.queryset.none(), problems


def film_search(*, user: User, params: QueryDict) -> FilmQuery:
    """Visible films matching the catalogue's query string: ``search`` (title, original title,
    director, as the API's ``search``), the API's film filters (``status``, ``year_min``,
    ``year_max``, ``decade``, ``director``) and ``ordering``. Bad values are reported, not guessed."""
    queryset = selectors.film_list(user=user).annotate(
        progress_ratio=Cast(F("approved_shot_count"), FloatField()) / NullIf(F("shot_count"), 0)
    )
    queryset, errors = filterset_apply(FilmFilter(params, queryset=queryset))

    search = params.get("search", "").strip()
    if len(search) > 200:
        errors.append("search: at most 200 characters.")
        queryset = queryset.none()
    elif search:
        queryset = queryset.filter(
            Q(title__icontains=search) | Q(original_title__icontains=search) | Q(directors__icontains=search)
        )

    ordering = params.get("ordering", "") or DEFAULT_FILM_ORDERING
    if ordering.lstrip("-") not in FILM_ORDERINGS:
        errors.append(f"ordering: '{ordering}' is not one of {', '.join(sorted(FILM_ORDERINGS))} (with '-' to reverse).")
        ordering = DEFAULT_FILM_ORDERING
        queryset = queryset.none()
    return FilmQuery(films=_order(queryset, ordering), errors=errors, ordering=ordering)


def shot_status_counts(*, film_ids: list[int]) -> dict[int, dict[str, int]]:
    """{film id: {shot status: count}} for the given (already visible) films, in one query."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ShotStatus.values, 0))
    rows = Shot.objects.filter(film_id__in=film_ids).values("film_id", "status").annotate(n=Count("pk")).order_by()
    for row in rows:
        counts[row["film_id"]][row["status"]] = row["n"]
    return counts


def catalogue_facets(*, user: User) -> dict:
    """Choices for the catalogue's filters, from the films the user can see: decades and directors."""
    films = selectors.film_list(user=user).order_by()
    years = sorted({year for year in films.values_list("year", flat=True) if year})
    directors: set[str] = set()
    for names in films.exclude(directors="").values_list("directors", flat=True):
        directors.update(name.strip() for name in names.split(",") if name.strip())
    return {
        "decades": sorted({year // 10 * 10 for year in years}),
        "directors": sorted(directors, key=str.casefold),
        "year_min": years[0] if years else None,
        "year_max": years[-1] if years else None,
    }


def film_for_page(*, user: User, film_id: int) -> Film:
    """The film with its counts and the user's role; 404 when the user may not see it."""
    film = selectors.film_list(user=user).filter(pk=film_id).first()
    if film is None:
        raise Http404("No such film.")
    return film


def film_frames(*, film: Film) -> dict:
    """``{"total": frames in the film's shots, "fps": the first shot's fps}`` (zeros without shots)."""
    totals = Shot.objects.filter(film=film).aggregate(total=Sum(F("end_frame") - F("start_frame") + 1))
    first = Shot.objects.filter(film=film).order_by("number").values_list("fps", flat=True).first()
    return {"total": totals["total"] or 0, "fps": first or 0}


def film_scans(*, film: Film) -> QuerySet[MediaAsset]:
    """The film's original scans (video files and image sequences), oldest first."""
    return MediaAsset.objects.filter(film=film, kind=AssetKind.ORIGINAL).order_by("created_at", "id")


def film_members(*, film: Film) -> QuerySet[Membership]:
    return Membership.objects.filter(film=film).select_related("user").order_by("role", "user__username")


def film_shots(*, user: User, film: Film) -> QuerySet[Shot]:
    """The film's shots in order, with ``version_count`` and their latest version's id, number and
    status, and their scan's numbering (``source``'s sequence fields: ``selectors.shot_numbering``)."""
    latest = ShotVersion.objects.filter(shot=OuterRef("pk")).order_by("-number")
    return (
        selectors.shot_list(user=user)
        .filter(film=film)
        .select_related("source")
        .annotate(latest_version_id=Subquery(latest.values("pk")[:1]),
                  latest_version_number=Subquery(latest.values("number")[:1]),
                  latest_version_status=Subquery(latest.values("status")[:1]))
        .order_by("number")
    )

