"""Writes of the delivery area: starting a delivery (checked first: a 400 starts nothing) and
verifying a deliverable against the checksums taken when it was made."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from restoration.api import MASTER_CODECS, encode_options_check
from restoration.errors import SpecError
from webapp.catalogue.models import Film
from webapp.colour.selectors import grade_applied
from webapp.delivery.checksums import file_checksums
from webapp.delivery.models import Deliverable, DeliverableKind, DeliverableStatus
from webapp.delivery.plan import conform_plan
from webapp.jobs.lifecycle import job_create, jobs_enqueue_on_commit
from webapp.jobs.models import JobKind, RestorationJob

EXPORT_KINDS = (DeliverableKind.OTIO, DeliverableKind.EDL, DeliverableKind.CCC)


def delivery_dispatch(*, film: Film, user: AbstractBaseUser | None, masters: list[str] | tuple[str, ...] = ("ffv1",),
                      exports: list[str] | tuple[str, ...] = (), reel: dict | None = None, fallback: str | None = None,
                      sound: bool = True, distribution: dict | None = None) -> RestorationJob:
    """Deliver the film or a reel (``{"first": n, "last": m}``, shot numbers): the ``masters``
    (``ffv1``, ``prores``) conformed from each shot's approved version (else the ``fallback``:
    ``scan`` or ``latest``) with the scan's sound unless ``sound`` is False, and the ``exports``
    (``otio``, ``edl``, ``ccc``), and a ``distribution`` encode (``{"codec": "h264" | "hevc" |
    "av1", "target": "ssim:0.97", "preset": "medium"}``: each shot at the highest CRF meeting the
    target, with the sound as AAC). A deliver job on the cpu queue; a ValidationError names what
    stops it (see ``plan.conform_plan``), and then nothing is created."""
    masters, exports = list(dict.fromkeys(masters)), list(dict.fromkeys(exports))
    unknown = [codec for codec in masters if codec not in MASTER_CODECS]
    if unknown:
        raise ValidationError({"masters": f"Unknown master codec {unknown[0]!r}: use {', '.join(MASTER_CODECS)}."})
    unknown = [kind for kind in exports if kind not in EXPORT_KINDS]
    if unknown:
        raise ValidationError({"exports": f"Unknown export {unknown[0]!r}: use {', '.join(EXPORT_KINDS)}."})
    if distribution is not None:
        if not isinstance(distribution, dict) or set(distribution) - {"codec", "target", "preset"}:
            raise ValidationError({"distribution": "Give {\"codec\", \"target\"} and optionally \"preset\"."})
        try:
            distribution = encode_options_check(distribution.get("codec"), distribution.get("target"),
                                                distribution.get("preset"))
        except SpecError as exc:
            raise ValidationError({"distribution": str(exc)}) from None
    if not masters and not exports and distribution is None:
        raise ValidationError({"masters": "Ask for at least one master, export or distribution encode."})
    if reel is not None:
        first, last = reel.get("first"), reel.get("last")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (first, last)) or first > last:
            raise ValidationError({"reel": "A reel is {\"first\": n, \"last\": m}: shot numbers, first <= last."})
        reel = {"first": first, "last": last}
    plan = conform_plan(film=film, reel=reel, fallback=fallback, sound=sound)
    if DeliverableKind.CCC in exports and not any(grade_applied(p.shot)[0] for p in plan.pictures):
        raise ValidationError({"exports": "No shot to deliver has an approved grade: there is no .ccc to export."})
    params = {"masters": masters, "exports": exports, "reel": reel, "fallback": fallback, "sound": sound,
              "distribution": distribution}
    with transaction.atomic():
        job = job_create(film=film, kind=JobKind.DELIVER, created_by=user, params=params)
        jobs_enqueue_on_commit([job])
    return job


def deliverable_verify(*, deliverable: Deliverable) -> Deliverable:
    """Read the deliverable's file again and compare its checksums with those taken when it was
    made: ``verified``, ``mismatch`` or ``missing``, recorded with the time and what differs."""
    path = deliverable.asset.file.path
    try:
        md5, sha256 = file_checksums(path)
    except FileNotFoundError:
        status, message = DeliverableStatus.MISSING, "The file is gone."
    else:
        differ = [name for name, found, kept in (("MD5", md5, deliverable.md5), ("SHA-256", sha256, deliverable.sha256))
                  if found != kept]
        status = DeliverableStatus.MISMATCH if differ else DeliverableStatus.VERIFIED
        message = (f"{' and '.join(differ)} differ: read {sha256 if 'SHA-256' in differ else md5}" if differ
                   else "MD5 and SHA-256 match.")
    Deliverable.objects.filter(pk=deliverable.pk).update(status=status, verified_at=timezone.now(),
                                                         verify_message=message[:300])
    deliverable.refresh_from_db()
    return deliverable
