"""REST endpoints of restoration jobs: list and read them; start a shot's restore; cancel.

Starting a restore needs PUBLISH on the shot's film (restorers and archivists): the job ends in
a new version put up for review. Cancelling needs the same."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from webapp.api.views import FilmScopedViewSet
from webapp.catalogue.access import Action
from webapp.jobs import services
from webapp.jobs.filters import RestorationJobFilter
from webapp.jobs.selectors import job_list
from webapp.jobs.serializers import RestorationJobSerializer, RestoreJobCreateSerializer


class RestorationJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """Jobs of the films you can see, newest first, with their progress."""

    serializer_class = RestorationJobSerializer
    filterset_class = RestorationJobFilter
    ordering_fields = ["created_at", "started_at", "finished_at", "status", "kind", "id"]
    ordering = ["-created_at", "-id"]
    object_actions = {"cancel": Action.PUBLISH}

    def get_queryset(self):
        return job_list(user=self.request.user)

    def film_id_of(self, job):
        return job.film_id

    @extend_schema(request=RestoreJobCreateSerializer, responses={201: RestorationJobSerializer})
    def create(self, request, *args, **kwargs):
        """Restore one shot with a preset or a pipeline spec: a pending job, run by a GPU worker."""
        body = RestoreJobCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        shot = body.validated_data["shot"]
        self.require(film_id=shot.film_id, action=Action.PUBLISH)
        spec = services.restore_spec_resolve(
            preset=body.validated_data.get("preset"), pipeline=body.validated_data.get("pipeline")
        )
        job = services.job_restore_dispatch(shot=shot, user=request.user, spec=spec)
        job = self.get_queryset().get(pk=job.pk)
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RestorationJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a pending or running job (a running one stops at its next progress report)."""
        job = services.job_cancel(job=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data, status=status.HTTP_200_OK)
