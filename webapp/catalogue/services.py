"""Writes to the catalogue: films, memberships, media assets, shots and versions.

Every function is keyword-only and atomic. Bad input raises Django's ``ValidationError`` naming
the field (the API turns it into a 400), so callers other than the API (ingest, management
commands, consumers) get the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from webapp.catalogue.models import Film, MediaAsset, Membership, Role, Shot, ShotStatus, ShotVersion, VersionStatus
from webapp.notifications.services import notify_version_ready
from webapp.review.events import version_created_announce

FILM_EDITABLE_FIELDS = frozenset(
    {"title", "original_title", "year", "directors", "runtime_minutes", "source_notes", "status"}
)


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    """Model validation (choices, lengths, check constraints) before touching the database."""
    instance.full_clean(exclude=exclude, validate_unique=False)


# Films ---------------------------------------------------------------------------------------


@transaction.atomic
def film_create(*, title: str, created_by: AbstractBaseUser | None = None, **fields: Any) -> Film:
    """A new film. A non-staff creator becomes its archivist (staff already see every film)."""
    unknown = set(fields) - FILM_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown film field." for name in sorted(unknown)})
    film = Film(title=title, **fields)
    _full_clean(film)
    film.save()
    if created_by is not None and not created_by.is_staff:
        Membership.objects.create(film=film, user=created_by, role=Role.ARCHIVIST)
    return film


@transaction.atomic
def film_update(*, film: Film, fields: Mapping[str, Any]) -> Film:
    unknown = set(fields) - FILM_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown film field." for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(film, name, value)
    _full_clean(film)
    film.save(update_fields=[*fields, "updated_at"])
    return film


# Memberships ---------------------------------------------------------------------------------


def _lock_archivists(film_id: int) -> list[Membership]:
    return list(Membership.objects.select_for_update().filter(film_id=film_id, role=Role.ARCHIVIST))


@transaction.atomic
def membership_create(*, film: Film, user: AbstractBaseUser, role: str) -> Membership:
    existing = Membership.objects.filter(film=film, user=user).first()
    if existing is not None:
        raise ValidationError({"user": f"{user} is already a member of this film (as {existing.role})."})
    membership = Membership(film=film, user=user, role=role)
    _full_clean(membership, exclude=["film", "user"])
    membership.save()
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, role: str) -> Membership:
    if membership.role == Role.ARCHIVIST and role != Role.ARCHIVIST:
        archivists = _lock_archivists(membership.film_id)
        if len(archivists) <= 1:
            raise ValidationError({"role": "This is the film's last archivist: add another archivist first."})
    membership.role = role
    _full_clean(membership, exclude=["film", "user"])
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    if membership.role == Role.ARCHIVIST:
        archivists = _lock_archivists(membership.film_id)
        if len(archivists) <= 1:
            raise ValidationError(
                {"non_field_errors": ["This is the film's last archivist: add another archivist first."]}
            )
    membership.delete()


# Media assets and shots ----------------------------------------------------------------------


@transaction.atomic
def asset_create(*, film: Film, kind: str, file: str, **probe: Any) -> MediaAsset:
    """A row for a stored media file (``file`` is its storage name) with what probing found."""
    asset = MediaAsset(film=film, kind=kind, file=file, **probe)
    _full_clean(asset, exclude=["film"])
    asset.save()
    return asset


@transaction.atomic
def shot_create(
    *,
    film: Film,
    number: int,
    start_frame: int,
    end_frame: int,
    fps: float,
    source: MediaAsset | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> Shot:
    if source is not None and source.film_id != film.pk:
        raise ValidationError({"source": "The source asset belongs to another film."})
    if end_frame < start_frame:
        raise ValidationError({"end_frame": "The last frame comes before the first."})
    if Shot.objects.filter(film=film, number=number).exists():
        raise ValidationError({"number": f"Shot {number} already exists in this film."})
    shot = Shot(
        film=film, number=number, start_frame=start_frame, end_frame=end_frame, fps=fps,
        source=source, metrics=dict(metrics or {}),
    )
    _full_clean(shot, exclude=["film", "source", "approved_version"])
    shot.save()
    return shot


def shot_status_refresh(*, shot: Shot, restoring: bool | None = None) -> Shot:
    """Derive the shot's status from its versions after a publish, a decision or a restore job.

    ``restoring=True``: a restore job started on it (in_restoration). Otherwise approved (it has
    an approved version) > in_review (a version awaits review) > rejected (its reviewed versions
    were all rejected) > unchanged (pending / in restoration), except that when a restore job
    ended (``restoring=False``) a shot with none of those goes back to pending.
    """
    statuses = set(shot.versions.values_list("status", flat=True))
    if restoring:
        status = ShotStatus.IN_RESTORATION
    elif shot.approved_version_id is not None:
        status = ShotStatus.APPROVED
    elif VersionStatus.IN_REVIEW in statuses:
        status = ShotStatus.IN_REVIEW
    elif VersionStatus.REJECTED in statuses:
        status = ShotStatus.REJECTED
    elif restoring is False:
        status = ShotStatus.PENDING
    else:
        status = shot.status
    if status != shot.status:
        shot.status = status
        shot.save(update_fields=["status", "updated_at"])
    return shot


# Versions ------------------------------------------------------------------------------------


@transaction.atomic
def version_create(
    *,
    shot: Shot,
    author: AbstractBaseUser | None,
    pipeline_spec: Mapping[str, Any] | None = None,
    notes: str = "",
    based_on: ShotVersion | None = None,
    media: MediaAsset | None = None,
) -> ShotVersion:
    """A draft version numbered after the shot's last one."""
    if based_on is not None and based_on.shot_id != shot.pk:
        raise ValidationError({"based_on": "The version it is based on belongs to another shot."})
    if media is not None and media.film_id != shot.film_id:
        raise ValidationError({"media": "The media asset belongs to another film."})
    if pipeline_spec is not None and not isinstance(pipeline_spec, Mapping):
        raise ValidationError({"pipeline_spec": "Must be a JSON object."})
    # Lock the shot so two versions created at once cannot take the same number.
    Shot.objects.select_for_update().only("pk").get(pk=shot.pk)
    last = shot.versions.aggregate(last=Max("number"))["last"] or 0
    return ShotVersion.objects.create(
        shot=shot, number=last + 1, author=author, pipeline_spec=dict(pipeline_spec or {}),
        notes=notes, based_on=based_on, media=media,
    )


@transaction.atomic
def version_publish(*, version: ShotVersion) -> ShotVersion:
    """Draft -> in review, stamped with the time it was published."""
    version = ShotVersion.objects.select_for_update().select_related("shot").get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            {"non_field_errors": [f"Only a draft can be published; this version is {version.status}."]}
        )
    version.status = VersionStatus.IN_REVIEW
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    shot_status_refresh(shot=version.shot)
    # The film's deciders hear of it; everyone on the shot's page sees it appear (after commit).
    notify_version_ready(version=version)
    version_created_announce(version=version)
    return version


@transaction.atomic
def version_update(*, version: ShotVersion, notes: str) -> ShotVersion:
    """Only the notes change after creation: what a version is stays as it was produced."""
    version.notes = notes
    version.save(update_fields=["notes"])
    return version
