"""What the API itself stores: the idempotency keys of retried writes (webapp/api/idempotency.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

KEY_MAX_LENGTH = 255


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one user: the request it was first sent with and, once that
    succeeded, its answer, replayed to every repeat until the record expires (24 h).

    ``in_progress`` rows are committed before the request runs, so a concurrent repeat sees them
    (409); ``completed`` is written in the transaction of the request's own rows, so both commit
    together or not at all."""

    State = IdempotencyState

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    method = models.CharField(max_length=10)
    path = models.TextField(help_text="The path and query string of the first request")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the first request's body as canonical JSON")
    state = models.CharField(max_length=20, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS)
    locked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the request in progress took the key (null once completed)")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "idempotency key"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_one_per_user_and_key"),
            models.CheckConstraint(condition=~Q(key=""), name="api_idempotency_key_not_empty"),
            models.CheckConstraint(
                condition=(
                    Q(state=IdempotencyState.IN_PROGRESS, locked_at__isnull=False, response_status__isnull=True)
                    | Q(state=IdempotencyState.COMPLETED, locked_at__isnull=True,
                        response_status__gte=200, response_status__lte=299)
                ),
                name="api_idempotency_state_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path}, {self.state})"
