"""REST endpoints of restoration jobs: read-only (starting jobs belongs to the job endpoints)."""

from __future__ import annotations

from rest_framework import mixins

from webapp.api.views import FilmScopedViewSet
from webapp.jobs.filters import RestorationJobFilter
from webapp.jobs.selectors import job_list
from webapp.jobs.serializers import RestorationJobSerializer


class RestorationJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """Jobs of the films you can see, newest first, with their progress."""

    serializer_class = RestorationJobSerializer
    filterset_class = RestorationJobFilter
    ordering_fields = ["created_at", "started_at", "finished_at", "status", "kind", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return job_list(user=self.request.user)
