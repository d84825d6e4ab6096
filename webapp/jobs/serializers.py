"""Shape of restoration jobs in the API. Jobs are started by their own input serializer
(``RestoreJobCreateSerializer``) and read through ``RestorationJobSerializer``."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers import StrictModelSerializer, VisibleRelatedField
from webapp.catalogue.models import Shot
from webapp.catalogue.selectors import shot_list
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import RESTORE_PRESETS


class RestorationJobSerializer(StrictModelSerializer):
    class Meta:
        model = RestorationJob
        fields = [
            "id", "kind", "status", "film", "shot", "parent", "result_version", "params", "progress",
            "frames_done", "frames_total", "message", "error", "attempts", "created_by", "created_at",
            "started_at", "finished_at",
        ]
        read_only_fields = fields


class RestoreJobCreateSerializer(serializers.Serializer):
    """``{"shot": id, "preset": "film"|"clean"}`` or ``{"shot": id, "pipeline": {...spec...}}``.
    The spec itself is checked by the engine (``job services: restore_spec_resolve``)."""

    shot = VisibleRelatedField(model=Shot, selector=shot_list)
    preset = serializers.ChoiceField(choices=RESTORE_PRESETS, required=False)
    pipeline = serializers.JSONField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs):
        if ("preset" in attrs) == ("pipeline" in attrs):
            raise serializers.ValidationError("Give either a preset or a pipeline spec, not both or neither.")
        return attrs
