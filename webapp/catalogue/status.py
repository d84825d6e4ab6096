"""Status of films, shots and versions, in one place: which moves are allowed, how a shot's
status follows from its facts, and the service functions that write them.

Everything that moves a status goes through here: ingest and the analyse job (a film's scan
arrives, is analysed), the deliver job (the film is delivered), restore jobs (a shot is in
restoration while one runs), publishing a version and review decisions. The tables list the
moves the workflow makes; anything else raises ``StatusTransitionError`` (a ``ValidationError``,
so the API answers 400). Staying in the same status is always allowed and writes nothing.

An archivist's own edit of a film's status (``PATCH /api/films/<id>/``, ``film_update``) is a
deliberate override and is not checked against the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from webapp.catalogue.models import Film, FilmStatus, Shot, ShotStatus, ShotVersion, VersionStatus


class StatusTransitionError(ValidationError):
    """A status move the workflow does not make (see the tables)."""


# Films: a scan arrives (ingesting), it is analysed into shots (in restoration), the film is
# delivered. The workflow only moves a film forward; in review / approved are set by hand.
FILM_ORDER = (
    FilmStatus.NEW, FilmStatus.INGESTING, FilmStatus.IN_RESTORATION, FilmStatus.IN_REVIEW, FilmStatus.APPROVED,
    FilmStatus.DELIVERED,
)
FILM_TRANSITIONS: Mapping[str, frozenset[str]] = {
    FilmStatus.NEW: frozenset({FilmStatus.INGESTING, FilmStatus.IN_RESTORATION, FilmStatus.DELIVERED}),
    FilmStatus.INGESTING: frozenset({FilmStatus.IN_RESTORATION, FilmStatus.DELIVERED}),
    FilmStatus.IN_RESTORATION: frozenset({FilmStatus.DELIVERED}),
    FilmStatus.IN_REVIEW: frozenset({FilmStatus.DELIVERED}),
    FilmStatus.APPROVED: frozenset({FilmStatus.DELIVERED}),
    FilmStatus.DELIVERED: frozenset(),
}

# Shots: what ``shot_status_derive`` can lead to from each status.
SHOT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    ShotStatus.PENDING: frozenset({ShotStatus.IN_RESTORATION, ShotStatus.IN_REVIEW, ShotStatus.CHANGES_REQUESTED,
                                   ShotStatus.APPROVED, ShotStatus.REJECTED}),
    ShotStatus.IN_RESTORATION: frozenset({ShotStatus.PENDING, ShotStatus.IN_REVIEW, ShotStatus.CHANGES_REQUESTED,
                                          ShotStatus.APPROVED, ShotStatus.REJECTED}),
    ShotStatus.IN_REVIEW: frozenset({ShotStatus.IN_RESTORATION, ShotStatus.CHANGES_REQUESTED, ShotStatus.APPROVED,
                                     ShotStatus.REJECTED}),
    # Changes were asked for: the restorer makes a new version (restoration, then review), or the
    # deciders change their minds on the version.
    ShotStatus.CHANGES_REQUESTED: frozenset({ShotStatus.IN_RESTORATION, ShotStatus.IN_REVIEW, ShotStatus.APPROVED,
                                             ShotStatus.REJECTED}),
    ShotStatus.REJECTED: frozenset({ShotStatus.IN_RESTORATION, ShotStatus.IN_REVIEW, ShotStatus.CHANGES_REQUESTED,
                                    ShotStatus.APPROVED}),
    # An approved shot stays approved, except while it is restored again or when its approval is
    # reopened (the version is back in review).
    ShotStatus.APPROVED: frozenset({ShotStatus.IN_RESTORATION, ShotStatus.IN_REVIEW}),
}

# Versions: a draft is published into review, where decisions request changes, approve or reject
# it. A newer version in review supersedes an open one (kept, no longer decided on); a decider
# reopens an approved or rejected one, back into review.
VERSION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    VersionStatus.DRAFT: frozenset({VersionStatus.IN_REVIEW}),
    VersionStatus.IN_REVIEW: frozenset({VersionStatus.CHANGES_REQUESTED, VersionStatus.APPROVED,
                                        VersionStatus.REJECTED, VersionStatus.SUPERSEDED}),
    VersionStatus.CHANGES_REQUESTED: frozenset({VersionStatus.IN_REVIEW, VersionStatus.APPROVED,
                                                VersionStatus.REJECTED, VersionStatus.SUPERSEDED}),
    VersionStatus.APPROVED: frozenset({VersionStatus.IN_REVIEW}),
    VersionStatus.REJECTED: frozenset({VersionStatus.IN_REVIEW}),
    VersionStatus.SUPERSEDED: frozenset(),
}
# Versions the deciders still decide on (a reviewer may change their verdict), and those whose
# review ended with a verdict (only a reopen moves them).
OPEN_VERSION_STATUSES = frozenset({VersionStatus.IN_REVIEW, VersionStatus.CHANGES_REQUESTED})
CLOSED_VERSION_STATUSES = frozenset({VersionStatus.APPROVED, VersionStatus.REJECTED})


def transition_check(table: Mapping[str, frozenset[str]], current: str, new: str, *, what: str) -> None:
    """Raise ``StatusTransitionError`` unless ``current -> new`` is in ``table`` (or stays put)."""
    if new != current and new not in table.get(current, frozenset()):
        raise StatusTransitionError({"status": f"A {what} cannot go from {current} to {new}."})


# Films ---------------------------------------------------------------------------------------


@transaction.atomic
def film_status_advance(*, film: Film, status: str) -> bool:
    """Move the film forward to ``status`` (a scan arrived: ingesting; analysed: in restoration;
    delivered), unless it is there or further along already. Returns whether it moved; ``film``
    is updated in place. A move the table does not list raises."""
    row = Film.objects.select_for_update().only("pk", "status").get(pk=film.pk)
    if FILM_ORDER.index(row.status) >= FILM_ORDER.index(status):
        film.status = row.status
        return False
    transition_check(FILM_TRANSITIONS, row.status, status, what="film")
    film.status = status
    Film.objects.filter(pk=film.pk).update(status=status, updated_at=timezone.now())
    return True


# Shots ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShotFacts:
    """What a shot's status follows from."""

    current: str  # its status now
    approved: bool  # it has an approved version
    in_review: bool  # one of its versions awaits review
    rejected: bool  # one of its versions was rejected
    changes_requested: bool  # changes were requested on its version in review
    restoring: bool | None  # a restore job runs on it (True), none does any more (False), no news (None)


def shot_status_derive(facts: ShotFacts) -> str:
    """A shot's status from its facts (pure: reads and writes nothing).

    A restore job running on it: in restoration. Otherwise its versions decide: approved (it has
    an approved version) > in review (a version awaits review) > changes requested (on its
    version in review) > rejected (its reviewed versions were all rejected; superseded ones do
    not count). With none of those it goes back to pending once a restore ended, and
    otherwise keeps its status (no news: pending stays pending)."""
    if facts.restoring:
        return ShotStatus.IN_RESTORATION
    if facts.approved:
        return ShotStatus.APPROVED
    if facts.in_review:
        return ShotStatus.IN_REVIEW
    if facts.changes_requested:
        return ShotStatus.CHANGES_REQUESTED
    if facts.rejected:
        return ShotStatus.REJECTED
    if facts.restoring is False:
        return ShotStatus.PENDING
    return facts.current


def shot_facts(shot: Shot, *, restoring: bool | None = None) -> ShotFacts:
    statuses = set(shot.versions.values_list("status", flat=True))
    return ShotFacts(
        current=shot.status, approved=shot.approved_version_id is not None,
        in_review=VersionStatus.IN_REVIEW in statuses, rejected=VersionStatus.REJECTED in statuses,
        changes_requested=VersionStatus.CHANGES_REQUESTED in statuses, restoring=restoring,
    )


def shot_status_update(*, shot: Shot, restoring: bool | None = None) -> Shot:
    """Set the shot's status from its facts: after a version is published or decided (review,
    ``restoring`` None), when a restore job starts on it (jobs, True) and when the last one
    running ended (jobs, False). Call it inside the transaction that changed the facts."""
    status = shot_status_derive(shot_facts(shot, restoring=restoring))
    transition_check(SHOT_TRANSITIONS, shot.status, status, what="shot")
    if status != shot.status:
        shot.status = status
        shot.save(update_fields=["status", "updated_at"])
    return shot


# Versions ------------------------------------------------------------------------------------


def version_status_set(*, version: ShotVersion, status: str, **fields: Any) -> ShotVersion:
    """Move a (locked) version to ``status`` if the table allows it, saving ``fields`` with it
    (e.g. ``published_at``). The caller then updates its shot (``shot_status_update``)."""
    transition_check(VERSION_TRANSITIONS, version.status, status, what="version")
    version.status = status
    for name, value in fields.items():
        setattr(version, name, value)
    version.save(update_fields=["status", *fields])
    return version


def versions_supersede(*, version: ShotVersion) -> list[ShotVersion]:
    """A newer version went into review: the shot's older versions still open for review are
    superseded (kept and viewable, no longer decided on, out of new session playlists). Decided
    ones (approved, rejected) keep their verdict. Returns the versions moved; call it in the
    transaction that published ``version``, before ``shot_status_update``."""
    older = (ShotVersion.objects.select_for_update()
             .filter(shot_id=version.shot_id, number__lt=version.number, status__in=OPEN_VERSION_STATUSES)
             .order_by("number"))
    return [version_status_set(version=old, status=VersionStatus.SUPERSEDED) for old in older]


def version_newer_in_review(*, version: ShotVersion) -> ShotVersion | None:
    """The shot's newest version after ``version`` that is open for review, if any (it is the
    one to decide on: ``version`` cannot be reopened while it waits)."""
    return (ShotVersion.objects.filter(shot_id=version.shot_id, number__gt=version.number,
                                       status__in=OPEN_VERSION_STATUSES).order_by("-number").first())
