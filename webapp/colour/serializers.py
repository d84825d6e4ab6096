"""Shapes of scenes, grades, grade decisions and references in the API. Writes go through
services.py; a grade's LUT never travels in JSON (``/api/grades/<id>/lut/`` serves it)."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers import StrictModelSerializer, StrictSerializer, VisibleRelatedField
from webapp.catalogue.models import Film, Shot
from webapp.catalogue.selectors import film_list, shot_list
from webapp.colour.models import (
    Grade,
    GradeDecision,
    GradeReference,
    GradeStatus,
    GradeVerdict,
    Scene,
    VersionGrade,
)
from webapp.colour.selectors import grade_list, scene_list


class CdlSerializer(StrictSerializer):
    """An ASC CDL: per channel ``out = clamp(in * slope + offset, 0, 1) ** power``, then
    saturation around Rec. 709 luma, clamped to 0..1."""

    slope = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3,
                                  help_text="R, G, B; 0 to 100")
    offset = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3,
                                   help_text="R, G, B; -10 to 10")
    power = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3,
                                  help_text="R, G, B; above 0, at most 100")
    saturation = serializers.FloatField(help_text="0 to 100 (1: unchanged, 0: grey)")


class SceneSerializer(StrictModelSerializer):
    film = VisibleRelatedField(model=Film, selector=film_list)
    shots = serializers.SerializerMethodField(help_text="Ids of the scene's shots, in order")

    class Meta:
        model = Scene
        fields = ["id", "film", "name", "first_number", "last_number", "shots", "source", "created_by",
                  "created_at", "updated_at"]
        read_only_fields = ["source", "created_by", "created_at", "updated_at"]
        create_only_fields = ["film"]
        extra_kwargs = {
            "first_number": {"help_text": "Number of the scene's first shot"},
            "last_number": {"help_text": "Number of its last shot (inclusive)"},
        }

    def get_shots(self, scene: Scene) -> list[int]:
        return list(Shot.objects.filter(film_id=scene.film_id, number__gte=scene.first_number,
                                        number__lte=scene.last_number).order_by("number").values_list("pk", flat=True))


class GradeSerializer(serializers.ModelSerializer):
    """A grade as the API shows it (read-only: grades are made by ``GradeCreateSerializer``,
    imports and fits)."""

    cdl = CdlSerializer()
    has_lut = serializers.BooleanField(read_only=True, help_text="A 33-point 3D LUT follows the CDL")
    lut_domain = serializers.JSONField(
        read_only=True, help_text="[[min R, G, B], [max R, G, B]] of the LUT's input, or null without a LUT")
    author_username = serializers.CharField(source="author.username", read_only=True, default=None)
    shot_number = serializers.IntegerField(source="shot.number", read_only=True, default=None, allow_null=True)
    scene_name = serializers.CharField(source="scene.name", read_only=True, default=None, allow_null=True)
    lut_url = serializers.SerializerMethodField(help_text="The 33^3 LUT for a WebGL preview (docs/API.md, Colour)")

    class Meta:
        model = Grade
        fields = ["id", "film", "shot", "shot_number", "scene", "scene_name", "number", "cdl", "has_lut",
                  "lut_domain", "lut_url", "source", "status", "report", "note", "author", "author_username",
                  "parent", "fit_job_id", "created_at", "decided_at"]
        read_only_fields = fields

    def get_lut_url(self, grade: Grade) -> str:
        return f"/api/grades/{grade.pk}/lut/"


class GradeCreateSerializer(StrictSerializer):
    """A grade made by hand: its CDL for a shot or a scene; with ``parent``, the grade it starts
    from (whose LUT it keeps unless ``keep_lut`` is false)."""

    shot = VisibleRelatedField(model=Shot, selector=shot_list, required=False, allow_null=True)
    scene = VisibleRelatedField(model=Scene, selector=scene_list, required=False, allow_null=True)
    cdl = CdlSerializer()
    parent = VisibleRelatedField(model=Grade, selector=grade_list, required=False, allow_null=True)
    keep_lut = serializers.BooleanField(required=False, default=True,
                                        help_text="Keep the parent's LUT after the new CDL (default true)")
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")

    def validate(self, data):
        if (data.get("shot") is None) == (data.get("scene") is None):
            raise serializers.ValidationError({"non_field_errors": ["Give the grade's shot or its scene (one of them)."]})
        return data


class GradeDecisionSerializer(StrictModelSerializer):
    film = serializers.IntegerField(source="grade.film_id", read_only=True)
    grade = VisibleRelatedField(model=Grade, selector=grade_list)
    shot = VisibleRelatedField(model=Shot, selector=shot_list, required=False, allow_null=True,
                               help_text="The shot of ``frame``: needed for a scene's grade, implied for a shot's")
    reviewer_username = serializers.CharField(source="reviewer.username", read_only=True)
    verdict = serializers.ChoiceField(choices=GradeVerdict.choices)

    class Meta:
        model = GradeDecision
        fields = ["id", "film", "grade", "verdict", "note", "shot", "frame", "reviewer", "reviewer_username", "role",
                  "required_roles", "required_members", "created_at"]
        read_only_fields = ["reviewer", "role", "required_roles", "required_members", "created_at"]
        extra_kwargs = {
            "note": {"help_text": "Required when requesting changes: what to change"},
            "frame": {"help_text": "The frame the note is about, from the shot's first frame (required when "
                                   "requesting changes)"},
        }


class GradeSummarySerializer(serializers.Serializer):
    grade = serializers.IntegerField()
    status = serializers.ChoiceField(choices=GradeStatus.choices)
    required_roles = serializers.ListField(child=serializers.CharField())
    unfilled_roles = serializers.ListField(
        child=serializers.CharField(), help_text="Required roles nobody holds on the film: no grade passes meanwhile"
    )
    current = GradeDecisionSerializer(many=True, help_text="Each reviewer's latest decision")
    my_role = serializers.CharField(allow_null=True)
    can_decide = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, help_text="Why you cannot sign now (empty when you can)")


class GradeReferenceSerializer(serializers.ModelSerializer):
    still_name = serializers.CharField(source="still.original_name", read_only=True, default=None, allow_null=True)
    still_size = serializers.SerializerMethodField(help_text="[width, height] of an uploaded still")

    class Meta:
        model = GradeReference
        fields = ["id", "film", "shot", "frame", "still", "still_name", "still_size", "version", "grade",
                  "created_by", "created_at"]
        read_only_fields = fields

    def get_still_size(self, reference: GradeReference) -> list[int] | None:
        still = reference.still
        return None if still is None else [still.width, still.height]


GRADE_FROM = [("shot", "The shot's own grade"), ("scene", "Its scene's grade")]


class ShotGradeSerializer(serializers.Serializer):
    """Which grade applies to a shot: the approved one (what restore jobs and deliveries apply)
    and the current one (what a preview shows), each the shot's own or else its scene's."""

    shot = serializers.IntegerField()
    scene = serializers.IntegerField(allow_null=True, help_text="The scene the shot belongs to")
    approved = GradeSerializer(allow_null=True)
    approved_from = serializers.ChoiceField(choices=GRADE_FROM, allow_null=True)
    current = GradeSerializer(allow_null=True)
    current_from = serializers.ChoiceField(choices=GRADE_FROM, allow_null=True)


class VersionGradeSerializer(serializers.ModelSerializer):
    grade = VisibleRelatedField(model=Grade, selector=grade_list)

    class Meta:
        model = VersionGrade
        fields = ["version", "grade", "mode", "recorded_by", "recorded_at"]
        read_only_fields = ["version", "mode", "recorded_by", "recorded_at"]
        extra_kwargs = {"mode": {"help_text": "baked: made with it (a restore job applied it); "
                                              "reviewed: previewed over the version"}}


class VersionGradeSetSerializer(StrictSerializer):
    grade = VisibleRelatedField(model=Grade, selector=grade_list,
                                help_text="A grade of the version's shot or of its scene")


class GradeImportSerializer(serializers.Serializer):
    """Documents the multipart body of an import."""

    file = serializers.FileField(help_text=".cdl, .cc, .ccc, .cube (2, 3, 5, 9, 17 or 33 points) or .json")
    shot = serializers.IntegerField(required=False, help_text="The shot the grade is for")
    scene = serializers.IntegerField(required=False, help_text="Or the scene")
    film = serializers.IntegerField(required=False,
                                    help_text="Or the film: every correction of a .ccc whose id is shot-<number> "
                                              "or scene-<first>-<last>")
    id = serializers.CharField(required=False, help_text="The correction to take from a file with several")
    parent = serializers.IntegerField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)

