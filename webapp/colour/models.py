"""Colour: grades (an ASC CDL, then an optional 33-point 3D LUT) per shot or per scene, the
graded stills they were learned from, and the colour sign-off (append-only decisions).

A grade is never edited: a change is a new grade (``number`` + 1 for its shot or scene, its
``parent`` the grade it started from); only its ``status`` moves, by decisions under the film's
approval policy. A scene is a named run of consecutive shots sharing one look; a shot's own
approved grade wins over its scene's (``selectors.grade_applied``).

The LUT is kept in the grade's row as 33^3 RGB float32 little-endian (red fastest, .cube order;
431 KB): it is committed with the row, so a grade never points at a missing or half-written file
and no file needs cleaning up; it is exactly the browser's 3D texture (``/api/grades/<id>/lut/``).
Lists never load it (``selectors`` defer it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from webapp.catalogue.models import Film, MediaAsset, Role, Shot, ShotVersion

LUT_SIZE = 33
LUT_BYTES = LUT_SIZE**3 * 3 * 4


class SceneSource(models.TextChoices):
    ANALYSIS = "analysis", "Proposed from the analysis"
    MANUAL = "manual", "Made by hand"


class Scene(models.Model):
    """Shots ``first_number .. last_number`` (inclusive) of a film, graded as one."""

    Source = SceneSource

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="scenes")
    name = models.CharField(max_length=200)
    first_number = models.PositiveIntegerField(help_text="Number of the scene's first shot")
    last_number = models.PositiveIntegerField(help_text="Number of the scene's last shot (inclusive)")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["film_id", "first_number", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(first_number__gte=1), name="scene_first_shot_from_one"),
            models.CheckConstraint(condition=Q(last_number__gte=F("first_number")), name="scene_range_ordered"),
            models.CheckConstraint(condition=~Q(name=""), name="scene_name_not_empty"),
            models.CheckConstraint(condition=Q(source__in=SceneSource.values), name="scene_source_valid"),
            # Scenes of a film do not overlap (services check it under the film's lock); two
            # cannot start at the same shot in any case.
            models.UniqueConstraint(fields=["film", "first_number"], name="scene_start_unique_in_film"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (shots {self.first_number}-{self.last_number} of film {self.film_id})"


class GradeSource(models.TextChoices):
    MANUAL = "manual", "Made by hand"
    FIT = "fit", "Learned from reference stills"
    IMPORT = "import", "Imported from a file"


class GradeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Grade(models.Model):
    """One version of the grade of a shot or of a scene (exactly one of the two)."""

    Source = GradeSource
    Status = GradeStatus
    DECIDABLE = (GradeStatus.PROPOSED, GradeStatus.CHANGES_REQUESTED)
    # The fields a saved grade may still change: its sign-off.
    MUTABLE_FIELDS = frozenset({"status", "decided_at"})

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="grades")
    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, null=True, blank=True, related_name="grades")
    scene = models.ForeignKey(Scene, on_delete=models.RESTRICT, null=True, blank=True, related_name="grades")
    number = models.PositiveIntegerField(help_text="1-based, per shot or per scene")
    cdl = models.JSONField(help_text="ASC CDL: slope, offset, power (R, G, B each) and saturation")
    lut = models.BinaryField(null=True, blank=True, editable=False,
                             help_text="33^3 RGB float32 little-endian, red fastest (.cube order), or none")
    lut_domain = models.JSONField(null=True, blank=True, help_text="[[min r, g, b], [max r, g, b]] of the LUT's input")
    source = models.CharField(max_length=20, choices=Source.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    report = models.JSONField(null=True, blank=True, help_text="A fitted grade's report (CIEDE2000 errors)")
    note = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="grades")
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    # The fit job that made it (jobs sit above colour, so an id rather than a foreign key).
    fit_job_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True, help_text="When it was approved or rejected")

    class Meta:
        ordering = ["film_id", "shot_id", "scene_id", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shot__isnull=False, scene__isnull=True) | Q(shot__isnull=True, scene__isnull=False),
                name="grade_of_a_shot_or_a_scene",
            ),
            models.UniqueConstraint(fields=["shot", "number"], name="grade_number_unique_in_shot"),
            models.UniqueConstraint(fields=["scene", "number"], name="grade_number_unique_in_scene"),
            models.CheckConstraint(condition=Q(number__gte=1), name="grade_number_from_one"),
            models.CheckConstraint(condition=Q(source__in=GradeSource.values), name="grade_source_valid"),
            models.CheckConstraint(condition=Q(status__in=GradeStatus.values), name="grade_status_valid"),
            models.CheckConstraint(condition=Q(lut__isnull=True) | Q(lut_domain__isnull=False),
                                   name="grade_lut_has_a_domain"),
            models.CheckConstraint(
                condition=Q(status__in=["approved", "rejected"], decided_at__isnull=False)
                | Q(status__in=["proposed", "changes_requested"], decided_at__isnull=True),
                name="grade_decided_has_time",
            ),
        ]
        indexes = [models.Index(fields=["film", "status"]), models.Index(fields=["fit_job_id"])]

    def save(self, *args, **kwargs):
        # Append-only: a saved grade changes only its sign-off (a new look is a new grade).
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and not kwargs.get("force_insert") and (
            update_fields is None or not set(update_fields) <= self.MUTABLE_FIELDS
        ):
            raise ValueError("grades are append-only: create a new grade instead of editing one")
        super().save(*args, **kwargs)

    @property
    def has_lut(self) -> bool:
        return self.lut_domain is not None

    @property
    def is_decidable(self) -> bool:
        return self.status in self.DECIDABLE

    def __str__(self) -> str:
        owner = f"shot {self.shot_id}" if self.shot_id else f"scene {self.scene_id}"
        return f"Grade {self.number} of {owner} ({self.status})"


class GradeReference(models.Model):
    """A graded still of one frame of a shot: an uploaded picture (a media asset of kind
    ``reference``) or a frame of another version of the film. ``grade`` is the grade fitted from
    it (null while its fit is pending, or when it failed: the job can be retried)."""

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="grade_references")
    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="grade_references")
    frame = models.PositiveIntegerField(help_text="The graded frame, counted from the shot's first frame")
    still = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    version = models.ForeignKey(ShotVersion, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                help_text="Or: this version's picture at the same frame is the graded still")
    grade = models.ForeignKey(Grade, on_delete=models.SET_NULL, null=True, blank=True, related_name="references")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shot_id", "frame", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(still__isnull=False, version__isnull=True) | Q(still__isnull=True, version__isnull=False),
                name="grade_reference_still_or_version",
            ),
        ]

    def __str__(self) -> str:
        return f"Reference for shot {self.shot_id} frame {self.frame}"


class GradeVerdict(models.TextChoices):
    # The review track's verdicts, so the approval policy's rules read both tracks alike.
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class GradeDecision(models.Model):
    """A sign-off verdict on a grade. Append-only: a new decision supersedes, none is edited."""

    Verdict = GradeVerdict

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grade_decisions")
    role = models.CharField(max_length=20, choices=Role.choices, help_text="Reviewer's role when deciding")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    note = models.TextField(blank=True)
    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             help_text="The shot of ``frame`` (a scene grade spans several)")
    frame = models.PositiveIntegerField(null=True, blank=True, help_text="The frame the note is about")
    # What the film's approval policy required when this decision was made (review's ``policy.py``):
    # written once, with the row (decisions are append-only).
    required_roles = models.JSONField(default=list, blank=True, help_text="The policy's required roles then")
    required_members = models.JSONField(
        default=dict, blank=True, help_text="For each required role, the ids of the members who held it then"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["grade_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=GradeVerdict.values), name="grade_decision_verdict_valid"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="grade_decision_role_valid"),
            models.CheckConstraint(condition=Q(frame__isnull=True) | Q(shot__isnull=False),
                                   name="grade_decision_frame_has_shot"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("grade decisions are append-only: record a new one instead of editing")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.reviewer} ({self.role}): {self.verdict} on {self.grade}"


class VersionGradeMode(models.TextChoices):
    BAKED = "baked", "Made with it (applied by the restore job)"
    REVIEWED = "reviewed", "Reviewed with it (previewed over the version)"


class VersionGrade(models.Model):
    """The grade a version was made with (a restore job applied it: ``baked``, fixed) or is
    reviewed with (previewed over it: ``reviewed``, set by a member). One per version."""

    Mode = VersionGradeMode

    version = models.OneToOneField(ShotVersion, on_delete=models.CASCADE, related_name="grade_link")
    grade = models.ForeignKey(Grade, on_delete=models.RESTRICT, related_name="version_links")
    mode = models.CharField(max_length=20, choices=Mode.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=VersionGradeMode.values), name="version_grade_mode_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.mode} with grade {self.grade_id}"
