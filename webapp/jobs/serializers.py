"""Shape of restoration jobs in the API (read-only: jobs are started by their own endpoints)."""

from __future__ import annotations

from webapp.api.serializers import StrictModelSerializer
from webapp.jobs.models import RestorationJob


class RestorationJobSerializer(StrictModelSerializer):
    class Meta:
        model = RestorationJob
        fields = [
            "id", "kind", "status", "film", "shot", "parent", "result_version", "params", "progress",
            "frames_done", "frames_total", "message", "error", "attempts", "created_by", "created_at",
            "started_at", "finished_at",
        ]
        read_only_fields = fields
