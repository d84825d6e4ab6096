"""Live review sessions: a playlist of shot versions watched together, and guest invitations.

Only what must last is here: who hosts, what is in the playlist, who was invited. The shared
playback state (playhead, play/pause, A/B, mode, wipe, zoom) and presence change many times a
second and live in Redis (see ``state.py``), so that any server can serve any participant.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from webapp.catalogue.models import Film, ShotVersion


class ReviewSession(models.Model):
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="review_sessions")
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_sessions_created"
    )
    # Who drives playback now; starts as the creator, changes on hand-over.
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    versions = models.ManyToManyField(ShotVersion, through="PlaylistItem", related_name="review_sessions")
    # Names the session's live state in Redis. Random rather than the id, so that a database that
    # is recreated (tests, a restored backup) never picks up another session's leftover state.
    state_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="review_session_title_not_empty"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("created_at")),
                name="review_session_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["film", "ended_at"])]

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    def __str__(self) -> str:
        return f"Session {self.title!r} on {self.film}"


class PlaylistItem(models.Model):
    """One version in a session's playlist; ``position`` counts from 0 in playing order."""

    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="items")
    version = models.ForeignKey(ShotVersion, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="playlist_position_unique"),
            models.UniqueConstraint(fields=["session", "version"], name="playlist_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.version}"


class GuestRole(models.TextChoices):
    CREATOR_GUEST = "creator_guest", "Creator (guest)"


class GuestInviteQuerySet(models.QuerySet):
    def admitting(self) -> GuestInviteQuerySet:
        """Invitations that still let their guest in: not revoked, not expired, their session not
        ended. The database form of ``selectors.invite_refusal`` (which says why not); keep them alike."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now(), session__ended_at__isnull=True)


class GuestInvite(models.Model):
    """A link that lets someone without an account (typically the film's original creator) into
    one session until ``expires_at``. Only a SHA-256 of the token is stored; the link is shown once.
    ``user`` is the guest's own identity: a user with no password and no film membership, so
    every other page and API answers 404 for them."""

    Role = GuestRole

    objects = GuestInviteQuerySet.as_manager()

    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, choices=GuestRole.choices, default=GuestRole.CREATOR_GUEST)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guest_invite")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(display_name=""), name="guest_invite_name_not_empty"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="guest_invite_expires_later"),
            models.CheckConstraint(condition=Q(role__in=GuestRole.values), name="guest_invite_role_valid"),
        ]

    def __str__(self) -> str:
        return f"Guest {self.display_name} in {self.session}"
