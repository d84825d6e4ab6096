"""Notifications: versions and grades waiting for my review, mentions, decisions on my work, replies,
invitations; in the app, and by e-mail as each user's ``NotificationSettings`` ask."""

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
    # Set in the transaction that sends the e-mail: a notification is e-mailed at most once.
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The recipient wanted it by e-mail when it was made; cleared once sent, or when the send finds
    # it no longer wanted. The sweep sends again the due ones whose task never reached the broker
    # or was lost there (email_queued_at: when its task last went out).
    email_due = models.BooleanField(default=False)
    email_queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"]),
            models.Index(fields=["created_at"], condition=Q(email_due=True), name="notification_email_due"),
        ]
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


class NotificationSettings(models.Model):
    """What a user wants by e-mail besides the in-app notification. No row means the defaults: e-mail
    on for what is addressed to them (mentions and replies, decisions on their work, invitations),
    off for review requests, which come with every version a decider's films publish."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    email_enabled = models.BooleanField(default=True, help_text="Any e-mail at all (off: in-app only)")
    email_mentions = models.BooleanField(default=True, help_text="Mentions of me and replies to my comments")
    email_decisions = models.BooleanField(default=True, help_text="Decisions on my versions and my grades")
    email_invitations = models.BooleanField(default=True, help_text="Invitations to join a film")
    email_review_requests = models.BooleanField(
        default=False, help_text="Versions and grades waiting for my review or sign-off"
    )
    updated_at = models.DateTimeField(auto_now=True)

    # Which switch lets each kind go out by e-mail.
    FIELD_OF_KIND = {
        NotificationKind.MENTION: "email_mentions",
        NotificationKind.COMMENT_REPLY: "email_mentions",
        NotificationKind.DECISION: "email_decisions",
        NotificationKind.GRADE_DECISION: "email_decisions",
        NotificationKind.INVITATION: "email_invitations",
        NotificationKind.VERSION_READY: "email_review_requests",
        NotificationKind.GRADE_READY: "email_review_requests",
    }

    # The switches by kind, in the order the settings form shows them (below ``email_enabled``).
    KIND_FIELDS = ("email_mentions", "email_decisions", "email_invitations", "email_review_requests")

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Notification settings of {self.user_id}"

    @classmethod
    def label(cls, field: str) -> str:
        """What a switch is about, in the settings form and in the e-mails it lets out."""
        return str(cls._meta.get_field(field).help_text)

    def wants_email(self, kind: str) -> bool:
        return self.email_enabled and getattr(self, self.FIELD_OF_KIND[kind])
