"""Ingest endpoints: upload a scan (multipart, streamed to disk) or register a file under INGEST_ROOTS.

Thin: access through the catalogue's access.py, the work in the catalogue's ingest.py; a new
scan goes on to an analyse job, which is why these views live in jobs (the catalogue imports
nothing of jobs). Members who may not publish get 403;
anyone else who is not a member gets 404 (the film's existence is not revealed).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.parsers import BoundedJSONParser
from webapp.api.serializers import StrictSerializer
from webapp.api.uploads import CheckAccessBeforeBody
from webapp.catalogue.access import Action
from webapp.catalogue.api_base import require_film_action
from webapp.catalogue.ingest import IngestError, asset_ingest_path, asset_ingest_upload
from webapp.catalogue.models import Film, MediaAsset
from webapp.catalogue.upload_handlers import LimitedScanUploadHandler
from webapp.jobs.services import job_analyse_dispatch


class ImageSequenceSerializer(serializers.Serializer):
    """What an image-sequence scan is: its frames' pattern, their file numbers, depth and format."""

    pattern = serializers.CharField(source="sequence_pattern", help_text="The frame files' printf pattern")
    first_number = serializers.IntegerField(source="sequence_first", help_text="First frame's file number")
    last_number = serializers.IntegerField(source="sequence_last", help_text="Last frame's file number")
    format = serializers.CharField(source="sequence_format", help_text="dpx, tiff, png or exr")
    bits = serializers.IntegerField(source="sequence_bits", help_text="Bits per component as stored")
    transfer = serializers.CharField(source="sequence_transfer",
                                     help_text="DPX transfer (logarithmic, linear, ...); empty if none")
    timecode = serializers.CharField(source="sequence_timecode", help_text="First frame's timecode; empty if none")


class IngestedAssetSerializer(serializers.ModelSerializer):
    analysis_job = serializers.SerializerMethodField(
        help_text="The analyse job started for this scan (shots, metrics, previews), or null with ?analyse=false")
    sequence = serializers.SerializerMethodField(help_text="The image sequence, or null for a video file")

    class Meta:
        model = MediaAsset
        fields = [
            "id", "film", "kind", "original_name", "size_bytes", "container", "codec", "width", "height",
            "fps", "frame_count", "bit_depth", "pix_fmt", "duration", "sequence", "created_at", "analysis_job",
        ]
        read_only_fields = fields

    def get_analysis_job(self, asset) -> int | None:
        return self.context.get("analysis_job")

    @extend_schema_field(ImageSequenceSerializer(allow_null=True))
    def get_sequence(self, asset) -> dict | None:
        return ImageSequenceSerializer(asset).data if asset.is_sequence else None


ANALYSE_PARAM = OpenApiParameter(
    "analyse", bool, description="Start the analyse job for the new scan (default true): shots, metrics, previews")


def _wants_analysis(request) -> bool:
    value = request.query_params.get("analyse", "true").lower()
    if value not in ("true", "false", "1", "0"):
        raise ScanRejected(f"analyse: expected true or false, got {value!r}")
    return value in ("true", "1")


def _ingested(request, film: Film, asset: MediaAsset, analyse: bool) -> Response:
    """201 with the asset; a new scan goes straight on to analysis (what a restorer expects after
    an upload), enqueued once the asset's row is committed."""
    job = job_analyse_dispatch(film=film, asset_id=asset.pk, user=request.user) if analyse else None
    data = IngestedAssetSerializer(asset, context={"analysis_job": job.pk if job else None}).data
    return Response(data, status=status.HTTP_201_CREATED)


class RegisterPathSerializer(StrictSerializer):
    path = serializers.CharField(
        max_length=4096, trim_whitespace=False,
        help_text="A file under one of the server's INGEST_ROOTS (absolute, or relative to the first root)",
    )


class UploadScanSerializer(serializers.Serializer):
    """Documents the multipart body; the file itself is streamed by the upload handler."""

    file = serializers.FileField(help_text="The scan (MKV/MOV/MP4...), at most MAX_UPLOAD_BYTES")


ERRORS = {
    400: OpenApiResponse(description="Not a usable scan, or a bad path: the message names the problem"),
    403: OpenApiResponse(description="A member who may not publish (viewer, creator)"),
    404: OpenApiResponse(description="No such film, or not a member"),
}


def _film_for_ingest(request, film_id: int) -> Film:
    """The film, when the user may publish on it (restorer, archivist, staff); 404 / 403 otherwise."""
    film = Film.objects.filter(pk=film_id).first()
    if film is None:
        raise NotFound()
    require_film_action(user=request.user, film_id=film.pk, action=Action.PUBLISH)
    return film


class ScanRejected(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class ScanTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def _rejected(exc: IngestError) -> APIException:
    """The API's error shape (detail + code, see docs/API.md) for an ingest refusal."""
    return ScanTooLarge(str(exc)) if exc.status_code == 413 else ScanRejected(str(exc))


class AssetUploadApi(CheckAccessBeforeBody, APIView):
    """POST multipart with the scan in the field ``file``. Answers the stored asset (201).

    The film and the role are checked before the body is read: a non-member's upload is never
    staged (sessions send the CSRF token in the X-CSRFToken header)."""

    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (the CSRF check reads request.POST): stream files to disk
        # with a size limit instead of Django's default handlers.
        request.upload_handlers = [LimitedScanUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        parameters=[ANALYSE_PARAM],
        request={"multipart/form-data": UploadScanSerializer},
        responses={201: IngestedAssetSerializer, 413: OpenApiResponse(description="Over the upload limit"), **ERRORS},
    )
    def post(self, request, film_id: int):
        film = _film_for_ingest(request, film_id)
        analyse = _wants_analysis(request)
        try:
            files = request.FILES
            if getattr(request._request, "upload_too_large", False):
                raise ScanTooLarge(f"file: upload larger than the limit of {settings.MAX_UPLOAD_BYTES} bytes")
            uploads = files.getlist("file")
            if len(uploads) != 1:
                raise ScanRejected("file: send exactly one file in the multipart field 'file'")
            try:
                asset = asset_ingest_upload(film=film, upload=uploads[0])
            except IngestError as exc:
                raise _rejected(exc) from None
            return _ingested(request, film, asset, analyse)
        finally:
            for upload in request.FILES.values():
                upload.close()  # staged files never outlive the request


class AssetRegisterApi(APIView):
    """POST JSON ``{"path": ...}``: a file under one of the server's INGEST_ROOTS. Answers the asset (201)."""

    parser_classes = [BoundedJSONParser]

    @extend_schema(parameters=[ANALYSE_PARAM], request=RegisterPathSerializer,
                   responses={201: IngestedAssetSerializer, **ERRORS})
    def post(self, request, film_id: int):
        film = _film_for_ingest(request, film_id)
        analyse = _wants_analysis(request)
        body = RegisterPathSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            asset = asset_ingest_path(film=film, path=body.validated_data["path"])
        except IngestError as exc:
            raise _rejected(exc) from None
        return _ingested(request, film, asset, analyse)
