"""Deliverables: the files a delivery job made for a film (masters, edit lists, grades), each
with its checksums. A row exists only for a complete file: it is created in the transaction that
renames the file to its final name, after the checksums were taken."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from webapp.catalogue.models import Film, MediaAsset


class DeliverableKind(models.TextChoices):
    MASTER = "master", "Master"
    DISTRIBUTION = "distribution", "Distribution encode"
    OTIO = "otio", "OpenTimelineIO"
    EDL = "edl", "CMX 3600 EDL"
    CCC = "ccc", "ASC CDL collection"


class DeliverableStatus(models.TextChoices):
    READY = "ready", "Ready"
    VERIFIED = "verified", "Verified"
    MISMATCH = "mismatch", "Checksum mismatch"
    MISSING = "missing", "File missing"


class Deliverable(models.Model):
    Kind = DeliverableKind
    Status = DeliverableStatus

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="deliverables")
    # The file, as every file the site keeps: a media asset of kind delivery (its deletion frees it).
    asset = models.OneToOneField(MediaAsset, on_delete=models.CASCADE, related_name="deliverable")
    job = models.ForeignKey("jobs.RestorationJob", on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="deliverables")
    kind = models.CharField(max_length=20, choices=DeliverableKind.choices)
    codec = models.CharField(max_length=30, blank=True,
                             help_text="ffv1, prores (masters), h264, hevc, av1 (distribution); empty for text files")
    sound = models.BooleanField(default=False, help_text="Carries the scan's sound")
    reel = models.JSONField(default=dict, blank=True, help_text='{"first": n, "last": n}: shot numbers')
    shots = models.JSONField(default=list, blank=True,
                             help_text="Per shot: number, picture source and version, frames in the file, "
                                       "quality figures where the encode has them")
    encoding = models.JSONField(default=dict, blank=True,
                                help_text='A distribution encode\'s {"target", "preset", "bytes"}')
    md5 = models.CharField(max_length=32)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=DeliverableStatus.choices, default=DeliverableStatus.READY)
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["film_id", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DeliverableKind.values), name="deliverable_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=DeliverableStatus.values), name="deliverable_status_valid"),
            models.CheckConstraint(condition=Q(md5__regex=r"^[0-9a-f]{32}$"), name="deliverable_md5_hex"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="deliverable_sha256_hex"),
        ]

    @property
    def file_name(self) -> str:
        return self.asset.original_name

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.film_id}: {self.file_name}"
