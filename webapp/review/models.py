"""Review of shot versions: frame-keyed comments (with vector drawings) and append-only decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from webapp.catalogue.models import Role, ShotVersion


class Comment(models.Model):
    version = models.ForeignKey(ShotVersion, on_delete=models.CASCADE, related_name="comments")
    frame = models.PositiveIntegerField(help_text="Frame number from the shot's first frame")
    frame_end = models.PositiveIntegerField(null=True, blank=True, help_text="Last frame of a range, inclusive")
    text = models.TextField()
    drawing = models.JSONField(null=True, blank=True, help_text="Vector shapes, see docs/API.md")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments")
    reply_to = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["version_id", "frame", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(frame_end__isnull=True) | Q(frame_end__gte=F("frame")), name="comment_range_ordered"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="comment_text_not_empty"),
        ]
        indexes = [models.Index(fields=["version", "frame"])]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.version} @ {self.frame}"


class CommentRevision(models.Model):
    """A comment's text as it was before an edit: written by ``services.comment_update`` with each
    change of text, never changed (append-only, in the database too: ``webapp/api/append_only.py``).
    The comment's history is its revisions in order, then its current text."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    previous_text = models.TextField(help_text="The text this edit replaced")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    edited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["comment_id", "edited_at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("comment revisions are append-only")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"Edit of comment {self.comment_id} by {self.editor} at {self.edited_at}"


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    # Back into review, with a reason: a required-role decider reopens an approved or rejected
    # version; only the decisions after it count.
    REOPEN = "reopen", "Reopen"


class Decision(models.Model):
    """A reviewer's verdict on a version. Append-only: a new decision supersedes, none is edited."""

    Verdict = Verdict

    version = models.ForeignKey(ShotVersion, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    role = models.CharField(max_length=20, choices=Role.choices, help_text="Reviewer's role when deciding")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    note = models.TextField(blank=True)
    # What the film's approval policy required when this decision was made (``policy.py``), and the
    # version status the decision led to: written once, with the row (decisions are append-only).
    required_roles = models.JSONField(default=list, blank=True, help_text="The policy's required roles then")
    required_members = models.JSONField(
        default=dict, blank=True, help_text="For each required role, the ids of the members who held it then"
    )
    outcome = models.CharField(
        max_length=20, blank=True, help_text="The version's status after this decision (blank: recorded before it was kept)"
    )
    # Where a change request points (the frame shown, and what was drawn on it): carried to the
    # next version's decisions panel.
    frame = models.PositiveIntegerField(null=True, blank=True, help_text="The frame the note is about")
    drawing = models.JSONField(null=True, blank=True, help_text="Shapes over that frame (review/drawing.py)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=Verdict.values), name="decision_verdict_valid"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="decision_role_valid"),
            models.CheckConstraint(condition=~Q(verdict="reopen") | ~Q(note=""), name="decision_reopen_has_reason"),
            models.CheckConstraint(condition=Q(drawing__isnull=True) | Q(frame__isnull=False),
                                   name="decision_drawing_has_frame"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("decisions are append-only: record a new one instead of editing")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.reviewer} ({self.role}): {self.verdict} on {self.version}"


class ApprovalPolicy(models.Model):
    """Which deciding roles must approve a version of this film before it is approved.

    A film without a row uses the defaults (archivist and creator). A required role that nobody
    holds on the film is *unfilled*: no version passes until someone is invited to it or the policy
    is changed (see ``policy.py``). Every change is recorded as an ``ApprovalPolicyChange``.
    """

    film = models.OneToOneField("catalogue.Film", on_delete=models.CASCADE, related_name="approval_policy")
    archivist_required = models.BooleanField(default=True)
    creator_required = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "approval policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(archivist_required=True) | Q(creator_required=True), name="approval_policy_needs_a_role"
            ),
        ]

    @property
    def required_roles(self) -> frozenset[str]:
        return frozenset(
            role for role, needed in ((Role.ARCHIVIST, self.archivist_required), (Role.CREATOR, self.creator_required))
            if needed
        )

    def __str__(self) -> str:
        return f"Approval of {self.film}: {', '.join(sorted(self.required_roles))}"


class ApprovalPolicyChange(models.Model):
    """A change of a film's approval policy, recorded (append-only): who made it, the rule it set,
    the members who held its roles then, and the waiting versions and open grades it decided."""

    film = models.ForeignKey("catalogue.Film", on_delete=models.CASCADE, related_name="approval_policy_changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    archivist_required = models.BooleanField()
    creator_required = models.BooleanField()
    required_members = models.JSONField(
        default=dict, blank=True, help_text="For each required role, the ids of the members who held it then"
    )
    decided = models.JSONField(
        default=list, blank=True,
        help_text='What the new rule decided at once: [{"version": id, "status": ...} or {"grade": id, "status": ...}]',
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["film_id", "created_at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("policy changes are append-only: record a new one instead of editing")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"Approval policy of {self.film_id} changed by {self.changed_by_id} at {self.created_at}"
