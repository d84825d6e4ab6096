"""Restoration jobs: a row in the database first, a Celery message second."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from webapp.catalogue.models import Film, Shot, ShotVersion


class JobKind(models.TextChoices):
    INGEST = "ingest", "Ingest"
    ANALYSE = "analyse", "Analyse"
    RESTORE = "restore", "Restore shot"
    RESTORE_BATCH = "restore_batch", "Restore shots (batch)"
    PROXIES = "proxies", "Render proxies"
    DELIVER = "deliver", "Deliver"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class RestorationJob(models.Model):
    Kind = JobKind

    Status = JobStatus

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="jobs")
    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    result_version = models.ForeignKey(
        ShotVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="produced_by"
    )
    params = models.JSONField(default=dict, blank=True, help_text="Preset or pipeline spec and options")
    progress = models.FloatField(default=0.0)
    frames_done = models.PositiveIntegerField(default=0)
    frames_total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    celery_task_id = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=JobKind.values), name="job_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="job_status_valid"),
            models.CheckConstraint(condition=Q(progress__gte=0.0, progress__lte=1.0), name="job_progress_in_unit"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(started_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="job_finishes_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="restore") | Q(shot__isnull=False), name="job_restore_has_shot"
            ),
        ]
        indexes = [models.Index(fields=["film", "status"]), models.Index(fields=["status", "created_at"])]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"
