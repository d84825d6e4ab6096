"""Writes to the catalogue: films, memberships, media assets, shots and versions.

Every function is keyword-only and atomic. Bad input raises Django's ``ValidationError`` naming
the field (the API turns it into a 400), so callers other than the API (ingest, management
commands, consumers) get the same rules.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from webapp.catalogue.access import guest_invite_of
from webapp.catalogue.media_files import sequence_frames
from webapp.catalogue.models import (
    AssetKind,
    Film,
    Invitation,
    InvitationStatus,
    MediaAsset,
    Membership,
    Role,
    Shot,
    ShotVersion,
    VersionStatus,
)
from webapp.catalogue.proxies import proxy_asset_dir
from webapp.catalogue.signals import invitation_sent_send_on_commit, version_published_send_on_commit
from webapp.catalogue.status import shot_status_update, version_status_set, versions_supersede

logger = logging.getLogger(__name__)

FILM_EDITABLE_FIELDS = frozenset(
    {"title", "original_title", "year", "directors", "runtime_minutes", "source_notes", "inventory_number", "status",
     "hosts_may_invite_guests", "frame_number_start"}
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
    """A membership, as such: for the film's creator (``film_create``), an accepted invitation
    (``invitation_accept``) and the operator's tools. Nobody is added to a film by someone else:
    the API invites (``invitation_create``) and the user accepts."""
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
    membership.delete()  # announced after the commit (receivers: membership_removed)


# Invitations ---------------------------------------------------------------------------------

MAX_INVITEE_CHARS = 254


def _invited_account(invitee: str) -> AbstractBaseUser | None:
    """The active account ``invitee`` names: a username, else the one account with that e-mail
    address (an address several accounts share names none). Never a live session's guest."""
    User = get_user_model()
    active = User.objects.filter(is_active=True)
    user = active.filter(username=invitee).first()
    if user is None and "@" in invitee:
        matches = list(active.filter(email__iexact=invitee)[:2])
        user = matches[0] if len(matches) == 1 else None
    if user is not None and guest_invite_of(user) is not None:
        return None
    return user


@transaction.atomic
def invitation_create(*, film: Film, invited_by: AbstractBaseUser | None, invitee: str, role: str) -> Invitation:
    """Invite the account named by ``invitee`` (a username or an e-mail address) to the film with
    ``role``. The answer is the same whether or not such an account exists (nobody learns who has
    one); an invitation that names none reaches nobody. The invited user hears of it once it
    commits (``invitation_sent``) and becomes a member only by accepting it."""
    if not isinstance(invitee, str) or not invitee.strip():
        raise ValidationError({"invitee": "Name who to invite: a username or an e-mail address."})
    invitee = invitee.strip()
    if len(invitee) > MAX_INVITEE_CHARS:
        raise ValidationError({"invitee": f"At most {MAX_INVITEE_CHARS} characters."})
    if role not in Role.values:
        raise ValidationError({"role": f"Must be one of {', '.join(Role.values)}."})
    invitation = Invitation.objects.create(
        film=film, role=role, invitee=invitee, user=_invited_account(invitee), invited_by=invited_by
    )
    if invitation.user_id is not None:
        invitation_sent_send_on_commit(invitation=invitation)
    return invitation


def _invitation_answer(*, invitation: Invitation, user: AbstractBaseUser, status: str) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("film").get(pk=invitation.pk)
    if invitation.user_id is None or invitation.user_id != user.pk:
        raise PermissionDenied("Only the invited user answers an invitation.")
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError({"status": f"This invitation is {invitation.status} already."})
    invitation.status = status
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """The invited user joins the film with the invitation's role."""
    invitation = _invitation_answer(invitation=invitation, user=user, status=InvitationStatus.ACCEPTED)
    existing = Membership.objects.filter(film_id=invitation.film_id, user_id=user.pk).first()
    if existing is not None:
        raise ValidationError({"status": f"You are already a member of this film (as {existing.role})."})
    return membership_create(film=invitation.film, user=user, role=invitation.role)


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: AbstractBaseUser) -> Invitation:
    return _invitation_answer(invitation=invitation, user=user, status=InvitationStatus.DECLINED)


@transaction.atomic
def invitation_cancel(*, invitation: Invitation) -> Invitation:
    """An archivist withdraws a pending invitation (the caller checked their role)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError({"status": f"This invitation is {invitation.status} already."})
    invitation.status = InvitationStatus.CANCELLED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    return invitation


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
    """Draft -> in review, stamped with the time it was published; the shot's older versions
    still open for review are superseded by it."""
    version = ShotVersion.objects.select_for_update().select_related("shot").get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            {"non_field_errors": [f"Only a draft can be published; this version is {version.status}."]}
        )
    version_status_set(version=version, status=VersionStatus.IN_REVIEW, published_at=timezone.now())
    versions_supersede(version=version)
    shot_status_update(shot=version.shot)
    # Once committed, the areas above hear of it (review: the shot's page shows it; notifications:
    # the film's deciders), through a signal: the catalogue imports none of them.
    version_published_send_on_commit(version=version)
    return version


@transaction.atomic
def version_update(*, version: ShotVersion, notes: str) -> ShotVersion:
    """Only the notes change after creation: what a version is stays as it was produced."""
    version.notes = notes
    version.save(update_fields=["notes"])
    return version


# Files on disk -------------------------------------------------------------------------------
#
# Every file the catalogue writes belongs to a media asset: its ``file`` (an original scan, a
# restore job's version, a delivery master, all under MEDIA_ROOT) and its cached pictures
# (``proxies/<asset id>/``: proxies, thumbnails, filmstrips). A version's files are those of its
# media asset; a film's are those of its assets. The receivers in ``receivers.py`` call these when
# rows are deleted, directly or by a cascade.


def asset_files_remove_on_commit(*, asset: MediaAsset, using: str = DEFAULT_DB_ALIAS) -> None:
    """Remove a deleted asset's files once the deleting transaction commits (a rolled-back delete
    keeps them; outside a transaction, at once)."""
    transaction.on_commit(partial(asset_files_remove, asset_id=asset.pk, name=asset.file.name,
                                  sequence=asset.is_sequence), using=using, robust=True)


def asset_files_remove(*, asset_id: int, name: str, sequence: bool = False) -> None:
    """Remove the file ``name`` of the deleted asset ``asset_id`` and its cached pictures; for an
    image sequence (``name`` its frames' pattern), its frames and then their folder if empty.

    The file is kept when it is not under MEDIA_ROOT once symlinks are resolved (an absolute
    path or a link into an archive: not ours to delete) or when another asset row still names
    it. Missing files are fine. Never raises: it runs after the commit of a request that
    succeeded, so an error is logged and the file is left behind.
    """
    try:
        path = _media_path(name) if name else None
        if name and path is None:
            logger.info("Deleted asset %s: kept its file %r, which is outside MEDIA_ROOT", asset_id, name)
        elif path is not None and MediaAsset.objects.filter(file__in={name, _media_name(path)}).exists():
            logger.info("Deleted asset %s: kept its file %r, which another asset uses", asset_id, name)
        elif path is not None and sequence:
            for frame in sequence_frames(path.parent, path.name):
                frame.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty: someone else's files stay
                path.parent.rmdir()
        elif path is not None:
            path.unlink(missing_ok=True)  # a symlink itself, never what it leads to
    except Exception:  # noqa: BLE001 - the rows are gone already; a stray file is only disk space
        logger.warning("Deleted asset %s: could not remove its file %r", asset_id, name, exc_info=True)
    try:
        folder = _media_path(proxy_asset_dir(asset_id))
        if folder is not None and not folder.is_symlink():
            shutil.rmtree(folder)  # removes the symlinks it finds inside, never what they lead to
    except FileNotFoundError:
        pass
    except Exception:  # noqa: BLE001 - as above
        logger.warning("Deleted asset %s: could not remove its cached pictures", asset_id, exc_info=True)


def _media_root() -> Path:
    return Path(os.path.abspath(settings.MEDIA_ROOT))


def _media_path(name: str | os.PathLike) -> Path | None:
    """The path of a storage name (or of a path) under MEDIA_ROOT, both as written and with
    symlinks resolved; None when either leads elsewhere (``..``, an absolute name, a link out)."""
    root = _media_root()
    path = Path(os.path.normpath(root / name))
    try:
        real_root, resolved = root.resolve(), path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    if path == root or resolved == real_root:
        return None
    if not (path.is_relative_to(root) and resolved.is_relative_to(real_root)):
        return None
    return path


def _media_name(path: Path) -> str:
    return path.relative_to(_media_root()).as_posix()


def version_media_delete(*, version: ShotVersion) -> None:
    """A deleted version's own media goes with it: the mezzanine its restore job wrote, unless a
    shot or another version still uses it. Any other asset (a scan used as a version) stays."""
    if version.media_id is None:
        return
    MediaAsset.objects.filter(pk=version.media_id, kind=AssetKind.MEZZANINE).exclude(
        Exists(ShotVersion.objects.filter(media=OuterRef("pk")))
    ).exclude(Exists(Shot.objects.filter(source=OuterRef("pk")))).delete()
