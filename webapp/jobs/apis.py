"""REST endpoints of jobs: list and read them; start a shot's restore, a batch restore, a scan's
analysis or previews; cancel; retry (deliveries start in ``webapp/delivery/apis.py``).

Starting, cancelling and retrying jobs needs PUBLISH on the film (restorers and archivists).
A film you are not a member of is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.idempotency import idempotent
from webapp.api.throttling import WriteRateThrottle
from webapp.catalogue.access import Action, visible_films
from webapp.catalogue.api_base import FilmScopedViewSet, require_film_action
from webapp.jobs import services
from webapp.jobs.filters import RestorationJobFilter
from webapp.jobs.selectors import job_list
from webapp.jobs.serializers import (
    BatchRestoreCreateSerializer,
    RestorationJobSerializer,
    RestoreJobCreateSerializer,
    ScanJobCreateSerializer,
)


def _job_response(request, job, code=status.HTTP_202_ACCEPTED) -> Response:
    return Response(RestorationJobSerializer(job_list(user=request.user).get(pk=job.pk)).data, status=code)


class RestorationJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """Jobs of the films you can see, newest first, with their progress."""

    serializer_class = RestorationJobSerializer
    filterset_class = RestorationJobFilter
    throttle_classes = [WriteRateThrottle]
    throttle_scope = "jobs"
    ordering_fields = ["created_at", "started_at", "finished_at", "status", "kind", "id"]
    ordering = ["-created_at", "-id"]
    object_actions = {"cancel": Action.PUBLISH, "retry": Action.PUBLISH}

    def get_queryset(self):
        return job_list(user=self.request.user)

    def film_id_of(self, job):
        return job.film_id

    @extend_schema(request=RestoreJobCreateSerializer, responses={201: RestorationJobSerializer})
    @idempotent
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
        return _job_response(request, job, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RestorationJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a pending or running job (a batch with its unfinished shots); a running one
        stops at its next progress report and removes its partial output."""
        job = services.job_cancel(job=self.get_object())
        return _job_response(request, job, status.HTTP_200_OK)

    @extend_schema(request=None, responses={202: RestorationJobSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Run a failed or cancelled job again (a batch: its failed and cancelled shots)."""
        job = services.job_retry(job=self.get_object())
        return _job_response(request, job)


class _FilmJobView(APIView):
    """``POST /api/films/<film_id>/<what>/``: start a job on the film."""

    required: Action = Action.PUBLISH
    body_serializer = None
    throttle_classes = [WriteRateThrottle]
    throttle_scope = "jobs"

    def post(self, request, film_id: int):
        film = visible_films(user=request.user).filter(pk=film_id).first()
        if film is None:
            raise NotFound()
        require_film_action(user=request.user, film_id=film.pk, action=self.required)
        body = self.body_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _job_response(request, self.start(request, film, body.validated_data))

    def start(self, request, film, data):
        raise NotImplementedError


class FilmRestoreView(_FilmJobView):
    body_serializer = BatchRestoreCreateSerializer

    @extend_schema(request=BatchRestoreCreateSerializer, responses={202: RestorationJobSerializer})
    @idempotent
    def post(self, request, film_id: int):
        """Restore shots of the film (a list, or ``"all"``) with a preset or a pipeline: one batch
        job with a child job per shot, run by the GPU workers."""
        return super().post(request, film_id)

    def start(self, request, film, data):
        spec = services.restore_spec_resolve(preset=data.get("preset"), pipeline=data.get("pipeline"))
        return services.job_batch_restore_dispatch(film=film, shot_ids=data["shots"], user=request.user, spec=spec)


class FilmAnalyseView(_FilmJobView):
    body_serializer = ScanJobCreateSerializer

    @extend_schema(request=ScanJobCreateSerializer, responses={202: RestorationJobSerializer})
    @idempotent
    def post(self, request, film_id: int):
        """Analyse a scan of the film: shots, metrics, recommended pipelines, review previews."""
        return super().post(request, film_id)

    def start(self, request, film, data):
        return services.job_analyse_dispatch(film=film, asset_id=data["asset"], user=request.user)


class FilmProxiesView(_FilmJobView):
    body_serializer = ScanJobCreateSerializer

    @extend_schema(request=ScanJobCreateSerializer, responses={202: RestorationJobSerializer})
    @idempotent
    def post(self, request, film_id: int):
        """Render the review previews (proxies, thumbnails, filmstrips) of a scan of the film."""
        return super().post(request, film_id)

    def start(self, request, film, data):
        return services.job_proxies_dispatch(film=film, asset_id=data["asset"], user=request.user)
