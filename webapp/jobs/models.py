"""Restoration jobs: a row in the database first, a Celery message second."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from webapp.catalogue.models import Film, Shot, ShotVersion


class JobKind(models.TextChoices):
    ANALYSE = "analyse", "Analyse"
    RESTORE = "restore", "Restore shot"
    RESTORE_BATCH = "restore_batch", "Restore shots (batch)"
    PROXIES = "proxies", "Render proxies"
    DELIVER = "deliver", "Deliver"
    GRADE_FIT = "grade_fit", "Fit a grade"


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
    celery_task_id = models.CharField(
        max_length=255, blank=True,
        help_text="The id of the one Celery message that may run this job; others are stale and dropped",
    )
    dispatched_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the job's message was handed to the broker; empty: not yet (the sweeper sends it)",
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True,
        help_text="The running worker's last sign of life; a job silent too long is reclaimed by the sweeper",
    )
    summary = models.JSONField(
        default=dict, blank=True,
        help_text="A batch's children by status and its failed shots, kept by the workers (see services)",
    )
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
            models.CheckConstraint(
                condition=~Q(kind="restore_batch") | Q(shot__isnull=True, parent__isnull=True),
                name="job_batch_is_a_top_level_film_job",
            ),
        ]
        indexes = [
            models.Index(fields=["film", "status"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["parent", "status"]),
            # The sweeper's two questions: pending jobs not sent, running jobs gone silent.
            models.Index(fields=["status", "dispatched_at"], name="job_status_dispatched"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
        ]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def is_batch(self) -> bool:
        return self.kind == JobKind.RESTORE_BATCH

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far; None before any progress or once finished."""
        if self.status != JobStatus.RUNNING or self.started_at is None or not 0.0 < self.progress < 1.0:
            return None
        elapsed = (timezone.now() - self.started_at).total_seconds()
        return round(max(0.0, elapsed * (1.0 - self.progress) / self.progress), 1)

    @property
    def children_summary(self) -> dict[str, int] | None:
        """How many children of a batch are in each status (None for a job without children)."""
        if not self.is_batch:
            return None
        counts = self.summary.get("children", {})
        return {status: int(counts.get(status, 0)) for status in JobStatus.values}

    @property
    def failed_shots(self) -> list[dict]:
        """``[{"shot", "number", "error"}]``: a batch's failed shots, or a failed restore's own shot."""
        if self.is_batch:
            return list(self.summary.get("failed_shots", []))
        if self.status == JobStatus.FAILED and self.shot_id is not None:
            return [{"shot": self.shot_id, "number": self.shot.number, "error": self.error}]
        return []

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"
