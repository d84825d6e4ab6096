"""The catalogue: films, who may do what on each (memberships), media files, shots and their versions.

Frames are integers counted from the film's (or shot's) first frame; seconds are derived, never keys.
Rules live in the database as constraints so no code path can break them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Role(models.TextChoices):
    ARCHIVIST = "archivist", "Archivist"
    CREATOR = "creator", "Creator"
    RESTORER = "restorer", "Restorer"
    VIEWER = "viewer", "Viewer"


class FilmStatus(models.TextChoices):
    NEW = "new", "New"
    INGESTING = "ingesting", "Ingesting"
    IN_RESTORATION = "in_restoration", "In restoration"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    DELIVERED = "delivered", "Delivered"


class Film(models.Model):
    Status = FilmStatus

    title = models.CharField(max_length=300)
    original_title = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    directors = models.CharField(max_length=300, blank=True, help_text="Comma-separated names")
    runtime_minutes = models.PositiveIntegerField(null=True, blank=True)
    source_notes = models.TextField(blank=True)
    inventory_number = models.CharField(
        max_length=60, blank=True, db_index=True, help_text="The archive's own inventory (accession) number"
    )
    # The number shown for a shot's first frame (0, or 1001 as many facilities count), the same
    # for everyone who reviews the film; frames stay the keys (0-based), this only labels them.
    frame_number_start = models.PositiveIntegerField(
        default=0, help_text="Number shown for each shot's first frame (e.g. 1001); frames stay counted from 0")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    hosts_may_invite_guests = models.BooleanField(
        default=False,
        help_text="Whether a live session's host (a creator or restorer) may give guest links; archivists always may",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="films")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["year"]),
            models.Index(fields=["status"]),
            models.Index(fields=["title"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1870, year__lte=2100), name="film_year_plausible"
            ),
            models.CheckConstraint(
                condition=Q(runtime_minutes__isnull=True) | Q(runtime_minutes__gt=0), name="film_runtime_positive"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="film_title_not_empty"),
            models.CheckConstraint(condition=Q(frame_number_start__lte=9_999_999), name="film_frame_number_start_range"),
            models.CheckConstraint(
                condition=Q(status__in=FilmStatus.values), name="film_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["film_id", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "film"], name="membership_one_per_user_and_film"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} on {self.film}"


class AssetKind(models.TextChoices):
    ORIGINAL = "original", "Original scan"
    PROXY = "proxy", "Review proxy"
    THUMBNAIL = "thumbnail", "Thumbnail"
    MEZZANINE = "mezzanine", "Mezzanine"
    DELIVERY = "delivery", "Delivery"
    REFERENCE = "reference", "Grading reference still"


class MediaAsset(models.Model):
    """A stored media file with what PyAV's probe found in it."""

    Kind = AssetKind

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="assets/%Y/%m/", max_length=500)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    container = models.CharField(max_length=50, blank=True)
    codec = models.CharField(max_length=50, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(null=True, blank=True)
    bit_depth = models.PositiveSmallIntegerField(null=True, blank=True)
    pix_fmt = models.CharField(max_length=30, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds, derived from frames and fps")
    # An image sequence (a scanner's numbered DPX/TIFF/PNG frames): ``file`` is then the printf
    # pattern of its frames in their own folder, and these say what the engine's probe found.
    sequence_pattern = models.CharField(
        max_length=255, blank=True, help_text="The frame files' printf pattern (f_%06d.dpx); empty for a video file")
    sequence_first = models.PositiveIntegerField(null=True, blank=True, help_text="First frame's file number")
    sequence_last = models.PositiveIntegerField(null=True, blank=True, help_text="Last frame's file number")
    sequence_format = models.CharField(max_length=10, blank=True, help_text="dpx, tiff, png or exr")
    sequence_bits = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Bits per component as stored (DPX 10/12/16, TIFF/PNG 8/16)")
    sequence_transfer = models.CharField(
        max_length=30, blank=True, help_text="The DPX header's transfer (logarithmic, linear, ...); empty if none")
    sequence_timecode = models.CharField(max_length=20, blank=True, help_text="The first frame's timecode, if any")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def is_sequence(self) -> bool:
        return bool(self.sequence_pattern)

    class Meta:
        ordering = ["film_id", "-created_at", "id"]
        # Deleting an asset asks whether another row still names its file.
        indexes = [models.Index(fields=["file"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AssetKind.values), name="asset_kind_valid"),
            models.CheckConstraint(condition=Q(size_bytes__gte=0), name="asset_size_not_negative"),
            models.CheckConstraint(condition=Q(fps__isnull=True) | Q(fps__gt=0), name="asset_fps_positive"),
            models.CheckConstraint(
                condition=Q(width__isnull=True) | Q(width__gt=0, height__gt=0), name="asset_dimensions_positive"
            ),
            models.CheckConstraint(
                condition=Q(sequence_pattern="", sequence_first__isnull=True, sequence_last__isnull=True)
                | (~Q(sequence_pattern="") & Q(sequence_last__gte=F("sequence_first"))),
                name="asset_sequence_numbers_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.film_id}: {self.original_name or self.file.name}"


class ShotStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_RESTORATION = "in_restoration", "In restoration"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Shot(models.Model):
    Status = ShotStatus

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="shots")
    number = models.PositiveIntegerField(help_text="1-based position of the shot in the film")
    start_frame = models.PositiveIntegerField(help_text="First frame in the film, counted from 0")
    end_frame = models.PositiveIntegerField(help_text="Last frame in the film, inclusive")
    fps = models.FloatField()
    source = models.ForeignKey(MediaAsset, on_delete=models.SET_NULL, null=True, blank=True, related_name="shots")
    metrics = models.JSONField(default=dict, blank=True)
    transition_in = models.JSONField(
        null=True, blank=True,
        help_text='The boundary into the shot as analysed: {"type": "cut|dissolve|wipe|fade", "start_frame", '
                  '"end_frame"} (film frames, inclusive); null for a film\'s first shot or shots cut by hand',
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    approved_version = models.ForeignKey(
        "ShotVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["film_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["film", "number"], name="shot_number_unique_in_film"),
            models.CheckConstraint(condition=Q(end_frame__gte=F("start_frame")), name="shot_end_not_before_start"),
            models.CheckConstraint(condition=Q(number__gte=1), name="shot_number_from_one"),
            models.CheckConstraint(condition=Q(fps__gt=0), name="shot_fps_positive"),
            models.CheckConstraint(condition=Q(status__in=ShotStatus.values), name="shot_status_valid"),
        ]
        indexes = [models.Index(fields=["film", "status"])]

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame + 1

    def __str__(self) -> str:
        return f"{self.film} shot {self.number}"


class VersionStatus(models.TextChoices):
    """A version's review (the moves: ``catalogue/status.py``): a draft is published into review;
    decisions request changes, approve or reject it; a newer version in review supersedes it
    (kept and viewable, no longer decided on); a decider may reopen an approved or rejected one."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class ShotVersion(models.Model):
    Status = VersionStatus

    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text="1-based, per shot")
    based_on = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derived")
    pipeline_spec = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="shot_versions"
    )
    media = models.ForeignKey(MediaAsset, on_delete=models.SET_NULL, null=True, blank=True, related_name="versions")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shot_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["shot", "number"], name="version_number_unique_in_shot"),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_from_one"),
            models.CheckConstraint(condition=Q(status__in=VersionStatus.values), name="version_status_valid"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="version_published_has_time"
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.shot} v{self.number}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class Invitation(models.Model):
    """An archivist's invitation to join a film with a role; the membership exists only once the
    invited user accepts. ``invitee`` is what the archivist typed (a username or an e-mail address);
    ``user`` the active account it named when sent, or null when it named none: such an invitation
    reaches nobody, and the archivist is told nothing different (no way to probe for accounts)."""

    Status = InvitationStatus

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=20, choices=Role.choices)
    invitee = models.CharField(max_length=254, help_text="The username or e-mail address the archivist gave")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="film_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["film", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="invitation_role_valid"),
            models.CheckConstraint(condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"),
            models.CheckConstraint(condition=~Q(invitee=""), name="invitation_invitee_not_empty"),
            models.CheckConstraint(
                condition=Q(status="pending", responded_at__isnull=True)
                | Q(~Q(status="pending"), responded_at__isnull=False),
                name="invitation_answered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.invitee!r} to {self.film} as {self.role} ({self.status})"
