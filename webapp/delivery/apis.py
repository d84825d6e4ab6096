"""REST endpoints of delivery: start one (``POST /api/films/<id>/deliver/``, archivists), list a
film's deliverables, download one (streamed, with HTTP Range) and its checksum sidecars, verify
one (archivists). Members of the film only: another film's deliverable is a 404."""

from __future__ import annotations

import re
from pathlib import Path

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.idempotency import idempotent
from webapp.api.routers import MAX_ID
from webapp.catalogue.access import Action, visible_films
from webapp.catalogue.api_base import FilmScopedViewSet, require_film_action
from webapp.delivery.checksums import sidecar_text
from webapp.delivery.selectors import deliverable_list
from webapp.delivery.serializers import DeliverableSerializer, DeliverCreateSerializer
from webapp.delivery.services import deliverable_verify, delivery_dispatch
from webapp.jobs.selectors import job_list
from webapp.jobs.serializers import RestorationJobSerializer

STREAM_CHUNK_BYTES = 1024 * 1024
CHECKSUM_ALGORITHMS = ("md5", "sha256")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class DeliverableFilter(serializers.Serializer):
    film = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


def _byte_range(header: str, size: int) -> tuple[int, int] | None | str:
    """The (first, last) bytes a single ``Range: bytes=`` header asks of a file of ``size`` bytes;
    None to send it all (no header, or a form we do not serve: several ranges); "unsatisfiable"."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def _chunks(path: Path, start: int, length: int):
    with open(path, "rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(STREAM_CHUNK_BYTES, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _attachment(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "deliverable"
    return f'attachment; filename="{safe}"'


class DeliverableViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """Deliverables of the films you can see (``?film=<id>``), newest first, with checksums."""

    serializer_class = DeliverableSerializer
    object_actions = {"verify": Action.EDIT_FILM}
    ordering_fields = ["created_at", "id", "kind"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        queryset = deliverable_list(user=self.request.user)
        if self.action == "list":
            query = DeliverableFilter(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            if "film" in query.validated_data:
                queryset = queryset.filter(film_id=query.validated_data["film"])
        return queryset

    def film_id_of(self, deliverable):
        return deliverable.film_id

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes,
                                            (206, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file, streamed; a ``Range: bytes=a-b`` header gets that part (206), a range past the
        end 416."""
        deliverable = self.get_object()
        path = Path(deliverable.asset.file.path)
        if not path.is_file():
            raise NotFound("The deliverable's file is missing; verify it to record that.")
        size = path.stat().st_size
        wanted = _byte_range(request.headers.get("Range", ""), size)
        if wanted == "unsatisfiable":
            response = HttpResponse(status=status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE)
            response["Content-Range"] = f"bytes */{size}"
            return response
        start, end = wanted if wanted is not None else (0, size - 1)
        response = StreamingHttpResponse(_chunks(path, start, end - start + 1), content_type="application/octet-stream",
                                         status=status.HTTP_206_PARTIAL_CONTENT if wanted else status.HTTP_200_OK)
        response["Content-Length"] = str(max(0, end - start + 1))
        response["Accept-Ranges"] = "bytes"
        response["Content-Disposition"] = _attachment(deliverable.file_name)
        if wanted is not None:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        return response

    @extend_schema(request=None, responses={(200, "text/plain"): str})
    @action(detail=True, methods=["get"], url_path="checksum/<str:algorithm>")
    def checksum(self, request, pk=None, algorithm=None):
        """The MD5 or SHA-256 sidecar (``<digest>  <file name>``, as ``md5sum -c`` reads it)."""
        if algorithm not in CHECKSUM_ALGORITHMS:
            raise NotFound(f"No {algorithm} checksum: there are {' and '.join(CHECKSUM_ALGORITHMS)}.")
        deliverable = self.get_object()
        digest = deliverable.md5 if algorithm == "md5" else deliverable.sha256
        response = HttpResponse(sidecar_text(digest, deliverable.file_name), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = _attachment(f"{deliverable.file_name}.{algorithm}")
        return response

    @extend_schema(request=None, responses={200: DeliverableSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Read the file again and compare its checksums: status ``verified``, ``mismatch`` or
        ``missing`` (archivists)."""
        deliverable = deliverable_verify(deliverable=self.get_object())
        return Response(DeliverableSerializer(deliverable).data)


class FilmDeliverView(APIView):
    @extend_schema(request=DeliverCreateSerializer, responses={202: RestorationJobSerializer})
    @idempotent
    def post(self, request, film_id: int):
        """Deliver the film or a reel (archivists): masters conformed from the approved versions
        with the scan's sound, and exports; a deliver job. A 400 names what stops it, e.g. the
        shots without an approved version (``unapproved_shots``) when no fallback is given."""
        film = visible_films(user=request.user).filter(pk=film_id).first()
        if film is None:
            raise NotFound()
        require_film_action(user=request.user, film_id=film.pk, action=Action.EDIT_FILM)
        body = DeliverCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = delivery_dispatch(film=film, user=request.user, masters=data["masters"], exports=data["exports"],
                                reel=dict(data["reel"]) if data["reel"] else None, fallback=data["fallback"],
                                sound=data["sound"],
                                distribution=dict(data["distribution"]) if data["distribution"] else None)
        return Response(RestorationJobSerializer(job_list(user=request.user).get(pk=job.pk)).data,
                        status=status.HTTP_202_ACCEPTED)
