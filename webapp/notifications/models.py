"""In-app notifications: versions and grades waiting for my review, mentions, decisions on my work, replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationKind(models.TextChoices):
    VERSION_READY = "version_ready", "Version ready for review"
    MENTION = "mention", "Mention"
    DECISION = "decision", "Decision on my version"
    COMMENT_REPLY = "comment_reply", "Reply to my comment"
    GRADE_READY = "grade_ready", "Grade awaiting my sign-off"
    GRADE_DECISION = "grade_decision", "Decision on my grade"
    INVITATION = "invitation", "Invitation to join a film"


class Notification(models.Model):
    Kind = NotificationKind

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    film = models.ForeignKey("catalogue.Film", on_delete=models.CASCADE, related_name="notifications")
    shot = models.ForeignKey("catalogue.Shot", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    version = models.ForeignKey(
        "catalogue.ShotVersion", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey("review.Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    decision = models.ForeignKey("review.Decision", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    grade = models.ForeignKey("colour.Grade", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    invitation = models.ForeignKey(
        "catalogue.Invitation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=500)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="notification_text_not_empty"),
            # Each kind points at what it is about: a version for versions and decisions, a comment
            # for mentions and replies, a grade for colour sign-off, an invitation for an invitation.
            models.CheckConstraint(
                condition=Q(kind__in=["version_ready", "decision"], version__isnull=False)
                | Q(kind__in=["mention", "comment_reply"], comment__isnull=False)
                | Q(kind__in=["grade_ready", "grade_decision"], grade__isnull=False)
                | Q(kind="invitation", invitation__isnull=False),
                name="notification_has_its_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient}: {self.text}"
