"""Shape of restoration jobs in the API. Jobs are started by their own input serializers and
read through ``RestorationJobSerializer``."""

from __future__ import annotations

from rest_framework import serializers

from restoration.api import PRESET_NAMES
from webapp.api.serializers import StrictModelSerializer, StrictSerializer, VisibleRelatedField
from webapp.catalogue.models import Shot
from webapp.catalogue.selectors import shot_list
from webapp.jobs.models import RestorationJob

MAX_SHOTS_PER_BATCH = 20_000


class ChildrenSummarySerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class FailedShotSerializer(serializers.Serializer):
    shot = serializers.IntegerField()
    number = serializers.IntegerField()
    error = serializers.CharField()


class RestorationJobSerializer(StrictModelSerializer):
    eta_seconds = serializers.FloatField(read_only=True, allow_null=True,
                                         help_text="Seconds left at the pace so far (running jobs with progress)")
    children_summary = ChildrenSummarySerializer(read_only=True, allow_null=True,
                                                 help_text="A batch's children by status; null for other jobs")
    failed_shots = FailedShotSerializer(many=True, read_only=True)

    class Meta:
        model = RestorationJob
        fields = [
            "id", "kind", "status", "film", "shot", "parent", "result_version", "params", "progress",
            "frames_done", "frames_total", "eta_seconds", "children_summary", "failed_shots", "message", "error",
            "attempts", "created_by", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


class _SpecChoice(StrictSerializer):
    """A preset name or a pipeline spec (checked by the engine: ``services.restore_spec_resolve``)."""

    preset = serializers.ChoiceField(choices=PRESET_NAMES, required=False)
    pipeline = serializers.JSONField(required=False)

    def validate(self, attrs):
        if ("preset" in attrs) == ("pipeline" in attrs):
            raise serializers.ValidationError("Give either a preset or a pipeline spec, not both or neither.")
        return attrs


class RestoreJobCreateSerializer(_SpecChoice):
    """``{"shot": id, "preset": "film"|"clean"}`` or ``{"shot": id, "pipeline": {...spec...}}``."""

    shot = VisibleRelatedField(model=Shot, selector=shot_list)


class BatchRestoreCreateSerializer(_SpecChoice):
    """``{"shots": [ids] | "all", "preset": ...}`` or ``{"shots": ..., "pipeline": {...}}``."""

    shots = serializers.JSONField(help_text='"all", or a list of shot ids of the film')

    def validate_shots(self, value):
        if value == "all":
            return None
        if (not isinstance(value, list) or not value
                or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in value)):
            raise serializers.ValidationError('Must be "all" or a non-empty list of shot ids.')
        if len(value) > MAX_SHOTS_PER_BATCH:
            raise serializers.ValidationError(f"At most {MAX_SHOTS_PER_BATCH} shots in one batch.")
        return value


class ScanJobCreateSerializer(StrictSerializer):
    """``{"asset": id}``: the scan (original or mezzanine asset of the film) to work on."""

    asset = serializers.IntegerField(min_value=1)
