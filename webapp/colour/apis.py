"""REST endpoints of colour: scenes, grades (history, sign-off summary, exchange files, the LUT a
browser previews with), grade decisions, grade references, the grade that applies to a shot and
the grade a version was made or reviewed with. Fits are jobs: ``POST /api/films/<id>/grade-fit/``
(``webapp/jobs/grade_fit_apis.py``).

Who may do what (``catalogue.access``): members read (another film's objects are 404);
restorers and archivists make, import and fit grades and edit scenes (``Action.GRADE``);
archivists and creators sign (``Action.DECIDE``); viewers only read.
"""

from __future__ import annotations

import json
import struct

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from restoration.api import grade_file_write, grade_lut
from webapp.api.idempotency import idempotent
from webapp.catalogue.access import Action, can
from webapp.catalogue.api_base import FilmScopedViewSet, require_film_action
from webapp.catalogue.ingest import IngestError, clean_original_name
from webapp.catalogue.selectors import film_list, shot_list, version_list
from webapp.catalogue.upload_handlers import LimitedScanUploadHandler
from webapp.colour import selectors, services
from webapp.colour.filters import GradeDecisionFilter, GradeFilter, GradeReferenceFilter, SceneFilter
from webapp.colour.models import GradeSource
from webapp.colour.serializers import (
    GradeCreateSerializer,
    GradeDecisionSerializer,
    GradeImportSerializer,
    GradeReferenceSerializer,
    GradeSerializer,
    GradeSummarySerializer,
    SceneSerializer,
    ShotGradeSerializer,
    VersionGradeSerializer,
    VersionGradeSetSerializer,
)

EXPORT_TYPES = {
    "cdl": "application/xml", "cc": "application/xml", "cube": "text/plain; charset=utf-8",
    "json": "application/json",
}
LUT_FORMAT = "restoration.lut3d"


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def id_param(data, name: str, *, required: bool = False) -> int | None:
    """An id from a query string or a multipart form; 400 naming it when it is not a number."""
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            raise exceptions.ValidationError({name: ["This field is required."]})
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError({name: [f"Expected a number, got {raw!r}."]}) from None
    if value < 0:
        raise exceptions.ValidationError({name: [f"Expected an id, got {value}."]})
    return value


def visible_or_400(queryset, pk: int | None, name: str):
    """The object ``pk`` of a visible queryset; an id you cannot see is "does not exist" (400)."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise exceptions.ValidationError({name: [f'Invalid pk "{pk}" - object does not exist.']})
    return found


def attachment(body: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def streamed_uploads(request, max_bytes: int) -> None:
    """Stream multipart files to the staging folder within ``max_bytes`` each (before anything
    reads the body: the CSRF check reads request.POST)."""
    request.upload_handlers = [LimitedScanUploadHandler(request, max_bytes=max_bytes)]


def uploads_closed(request) -> None:
    """Staged upload files never outlive their request (the stored copies are links of their own)."""
    for upload in request.FILES.values():
        upload.close()


class SceneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   mixins.UpdateModelMixin, mixins.DestroyModelMixin, FilmScopedViewSet):
    """Scenes: named runs of consecutive shots graded as one. Members read them; restorers and
    archivists make, rename, move and remove them (a scene with grades stays)."""

    serializer_class = SceneSerializer
    filterset_class = SceneFilter
    ordering_fields = ["first_number", "created_at", "id"]
    ordering = ["film_id", "first_number", "id"]
    object_actions = {"update": Action.GRADE, "partial_update": Action.GRADE, "destroy": Action.GRADE}

    def get_queryset(self):
        return selectors.scene_list(user=self.request.user)

    def film_id_of(self, scene):
        return scene.film_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require(film_id=data["film"].pk, action=Action.GRADE)
        scene = services.scene_create(film=data["film"], name=data["name"], first_number=data["first_number"],
                                      last_number=data["last_number"], user=self.request.user)
        serializer.instance = scene

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.scene_update(
            scene=serializer.instance, name=data.get("name"), first_number=data.get("first_number"),
            last_number=data.get("last_number"))

    def perform_destroy(self, scene):
        services.scene_delete(scene=scene)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: SceneSerializer(many=True)},
                   parameters=[OpenApiParameter("film", int, required=True, description="The film (in the body)")])
    @action(detail=False, methods=["post"])
    def propose(self, request):
        """Scenes proposed from the analysis for the film's shots in no scene: runs of
        consecutive shots of one look (their measured tone and colour balance). Body ``{"film": id}``."""
        if not isinstance(request.data, dict) or set(request.data) - {"film"}:
            raise exceptions.ValidationError({"film": ["Send only {\"film\": id}."]})
        film = visible_or_400(film_list(user=request.user), id_param(request.data, "film", required=True), "film")
        self.require(film_id=film.pk, action=Action.GRADE)
        made = services.scenes_propose(film=film, user=request.user)
        return Response(SceneSerializer(made, many=True).data, status=status.HTTP_201_CREATED)


GRADE_ERRORS = {
    400: OpenApiResponse(description="Bad input: the message names the field and the problem"),
    403: OpenApiResponse(description="Your role does not allow it"),
    404: OpenApiResponse(description="No such object, or not in a film you are a member of"),
}


class GradeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """Grades of shots and scenes (CDL, then an optional 33-point LUT): append-only, numbered per
    shot or scene; ``?shot=`` (or ``?scene=``) lists one history. Restorers and archivists make
    them (by hand, import, fit); archivists and creators sign them (``/api/grade-decisions/``)."""

    serializer_class = GradeSerializer
    filterset_class = GradeFilter
    ordering_fields = ["number", "created_at", "status", "id"]
    ordering = ["film_id", "shot_id", "scene_id", "number"]

    def get_queryset(self):
        return selectors.grade_list(user=self.request.user)

    def film_id_of(self, grade):
        return grade.film_id

    @extend_schema(request=GradeCreateSerializer, responses={201: GradeSerializer, **GRADE_ERRORS})
    @idempotent
    def create(self, request, *args, **kwargs):
        """A grade made by hand for a shot or a scene: ``{"shot": id | "scene": id, "cdl": {...},
        "parent": id, "keep_lut": true, "note": "..."}``; proposed for sign-off."""
        body = GradeCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        target = data.get("shot") or data.get("scene")
        self.require(film_id=target.film_id, action=Action.GRADE)
        parent = data.get("parent")
        values = services.grade_derive(parent=parent, cdl=dict(data["cdl"]), keep_lut=data["keep_lut"])
        grade = services.grade_create(values=values, source=GradeSource.MANUAL, author=request.user,
                                      shot=data.get("shot"), scene=data.get("scene"), parent=parent,
                                      note=data["note"])
        return Response(GradeSerializer(self.get_queryset().get(pk=grade.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=GradeSummarySerializer)
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        """The sign-off panel: status, the roles that must approve (the film's approval policy),
        each reviewer's current verdict, and whether you may sign now (and why not)."""
        summary = selectors.grade_summary(grade=self.get_object(), user=request.user)
        return Response(GradeSummarySerializer(summary).data)

    @extend_schema(
        parameters=[OpenApiParameter("baked", bool, description="The whole grade as one LUT (default false: the "
                                                               "grade's own LUT, applied after its CDL)")],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def lut(self, request, pk=None):
        """The grade's 33^3 LUT for a WebGL 3D texture: a 4-byte big-endian header length, a JSON
        header (size, domain, the CDL to apply first), then 33^3 RGB float32 little-endian, red
        fastest (docs/API.md, Colour)."""
        grade = self.get_object()
        baked = _bool_param(request, "baked")
        lut = grade_lut(selectors.grade_values_of(grade), baked=baked)
        header = {
            "format": LUT_FORMAT, "version": 1, "grade": grade.pk, "size": lut.size, "baked": baked,
            "dtype": "float32le", "channels": "rgb", "order": "red fastest, then green, then blue",
            "domain_min": list(lut.domain_min), "domain_max": list(lut.domain_max),
            "cdl": None if baked else grade.cdl,
        }
        text = json.dumps(header, separators=(",", ":")).encode("utf-8")
        text += b" " * (-(4 + len(text)) % 4)  # the table starts 4-byte aligned: a Float32Array view
        response = HttpResponse(struct.pack(">I", len(text)) + text + lut.table, content_type="application/octet-stream")
        response["Cache-Control"] = "private, max-age=31536000, immutable"  # a grade never changes
        return response

    @extend_schema(
        parameters=[OpenApiParameter("as", str, enum=list(EXPORT_TYPES),
                                     description="cdl (default), cc, cube (the whole grade baked, 33 points) "
                                                 "or json (CDL and LUT, lossless)")],
        responses={(200, "application/xml"): OpenApiTypes.BINARY, (200, "text/plain"): OpenApiTypes.STR,
                   (200, "application/json"): OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """The grade as a file to download: ASC .cdl/.cc (the CDL), .cube (CDL and LUT baked into
        one 33-point LUT) or the engine's .json."""
        grade = self.get_object()
        kind = request.query_params.get("as", "cdl")
        if kind not in EXPORT_TYPES:
            raise exceptions.ValidationError({"as": [f"Must be one of {', '.join(EXPORT_TYPES)}, got {kind!r}."]})
        correction = selectors.correction_id_of(grade)
        body = grade_file_write(selectors.grade_values_of(grade), extension=f".{kind}", correction_id=correction,
                                title=f"{grade.film.title} {correction} grade {grade.number}")
        name = f"{slugify(grade.film.title) or 'film'}-{correction}-grade{grade.number}.{kind}"
        return attachment(body, content_type=EXPORT_TYPES[kind], filename=name)

    @extend_schema(
        operation_id="grades_export_film",
        parameters=[OpenApiParameter("film", int, required=True),
                    OpenApiParameter("which", str, enum=["approved", "current"],
                                     description="approved (default): each shot's and scene's latest approved "
                                                 "grade; current: the latest that is not rejected")],
        responses={(200, "application/xml"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export_film(self, request):
        """The film's grades as one ASC .ccc (the CDLs; ids ``shot-<number>`` and
        ``scene-<first>-<last>``, which an import reads back)."""
        film = film_list(user=request.user).filter(pk=id_param(request.query_params, "film", required=True)).first()
        if film is None:
            raise exceptions.NotFound()
        which = request.query_params.get("which", "approved")
        if which not in ("approved", "current"):
            raise exceptions.ValidationError({"which": [f"Must be approved or current, got {which!r}."]})
        grades = selectors.film_grades(film_id=film.pk, which=which)
        if not grades:
            raise exceptions.ValidationError({"which": [f"The film has no {which} grade to export."]})
        return attachment(selectors.film_grades_ccc(grades), content_type="application/xml",
                          filename=f"{slugify(film.title) or 'film'}-{which}-grades.ccc")

    def initialize_request(self, request, *args, **kwargs):
        wrapped = super().initialize_request(request, *args, **kwargs)  # sets self.action; reads no body
        if self.action == "import_file":
            streamed_uploads(request, settings.MAX_GRADE_FILE_BYTES)
        return wrapped

    @extend_schema(request={"multipart/form-data": GradeImportSerializer},
                   responses={201: GradeSerializer(many=True), 413: OpenApiResponse(description="Over the limit"),
                              **GRADE_ERRORS})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request):
        """A grade file makes new grades (proposed for sign-off): with ``shot`` or ``scene``, one
        grade from a .cdl/.cc/.ccc (``id`` picks a correction of several), .cube or .json; with
        ``film``, one per correction of a film's .ccc (ids ``shot-<n>``, ``scene-<a>-<b>``).
        Answers the grades made (201)."""
        try:
            files = request.FILES
            if getattr(request._request, "upload_too_large", False):
                raise UploadTooLarge(f"file: larger than the grade file limit of {settings.MAX_GRADE_FILE_BYTES} bytes")
            return self._import(request, files)
        finally:
            uploads_closed(request)

    def _import(self, request, files):
        data = request.data
        allowed = {"file", "shot", "scene", "film", "id", "parent", "note"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown field."] for name in unknown})
        shot = visible_or_400(shot_list(user=request.user), id_param(data, "shot"), "shot")
        scene = visible_or_400(selectors.scene_list(user=request.user), id_param(data, "scene"), "scene")
        film = visible_or_400(film_list(user=request.user), id_param(data, "film"), "film")
        if sum(x is not None for x in (shot, scene, film)) != 1:
            raise exceptions.ValidationError({"non_field_errors": ["Import for one shot, scene or film."]})
        film_id = film.pk if film is not None else (shot or scene).film_id
        require_film_action(user=request.user, film_id=film_id, action=Action.GRADE)
        parent = visible_or_400(self.get_queryset(), id_param(data, "parent"), "parent")
        uploads = files.getlist("file")
        if len(uploads) != 1:
            raise exceptions.ValidationError({"file": ["Send exactly one file in the multipart field 'file'."]})
        upload = uploads[0]
        name = _plain_name(upload.name)
        body = b"".join(upload.chunks())
        note = data.get("note", "")
        if film is not None:
            if data.get("id") or parent is not None:
                raise exceptions.ValidationError({"film": ["A film's import takes every correction: no id or parent."]})
            grades = services.film_grades_import(film=film, data=body, name=name, author=request.user, note=note)
        else:
            grades = [services.grade_import(data=body, name=name, author=request.user, shot=shot, scene=scene,
                                            correction_id=data.get("id") or None, parent=parent, note=note)]
        rows = self.get_queryset().filter(pk__in=[grade.pk for grade in grades]).order_by("pk")
        return Response(GradeSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


def _plain_name(name: str | None) -> str:
    try:
        return clean_original_name(name or "")
    except IngestError as exc:
        raise exceptions.ValidationError({"file": [str(exc)]}) from None


def _bool_param(request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise exceptions.ValidationError({name: [f"Expected true or false, got {value!r}."]})
    return value in ("true", "1")


class GradeDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           FilmScopedViewSet):
    """Sign-off verdicts on grades, by archivists and creators, under the film's approval policy.
    Append-only: a reviewer who changes their mind records a new decision, which supersedes."""

    serializer_class = GradeDecisionSerializer
    filterset_class = GradeDecisionFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["grade_id", "created_at", "id"]

    def get_queryset(self):
        return selectors.grade_decision_list(user=self.request.user)

    def film_id_of(self, decision):
        return decision.grade.film_id

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require(film_id=data["grade"].film_id, action=Action.DECIDE)
        decision = services.grade_decision_record(
            grade=data["grade"], reviewer=self.request.user, verdict=data["verdict"], note=data.get("note", ""),
            shot=data.get("shot"), frame=data.get("frame"))
        serializer.instance = self.get_queryset().get(pk=decision.pk)


class GradeReferenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """The graded stills grades were (or are being) learned from; made by ``grade-fit``."""

    serializer_class = GradeReferenceSerializer
    filterset_class = GradeReferenceFilter
    ordering_fields = ["frame", "created_at", "id"]
    ordering = ["shot_id", "frame", "id"]

    def get_queryset(self):
        return selectors.grade_reference_list(user=self.request.user)

    def film_id_of(self, reference):
        return reference.film_id

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def still(self, request, pk=None):
        """The uploaded still itself (PNG, TIFF or JPEG as sent); 404 for a version's frame."""
        reference = self.get_object()
        if reference.still is None:
            raise exceptions.NotFound("This reference is a frame of a version, not an uploaded still.")
        try:
            handle = reference.still.file.open("rb")
        except OSError:
            raise exceptions.NotFound("The still's file is missing.") from None
        kind = {"png": "image/png", "tiff": "image/tiff", "jpeg": "image/jpeg"}.get(reference.still.container,
                                                                                   "application/octet-stream")
        response = FileResponse(handle, content_type=kind)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class ShotGradeView(APIView):
    @extend_schema(responses={200: ShotGradeSerializer, 404: OpenApiResponse(description="No such shot")})
    def get(self, request, pk: int):
        """Which grade applies to the shot: ``approved`` (what restore jobs and deliveries apply:
        the shot's latest approved grade, else its scene's) and ``current`` (what a preview shows:
        the latest grade not rejected, the shot's else its scene's)."""
        shot = shot_list(user=request.user).filter(pk=pk).first()
        if shot is None:
            raise exceptions.NotFound()
        approved, approved_from = selectors.grade_applied(shot)
        current, current_from = selectors.grade_current(shot)
        scene = selectors.scene_of_shot(shot)
        return Response(ShotGradeSerializer({
            "shot": shot.pk, "scene": scene.pk if scene else None, "approved": approved,
            "approved_from": approved_from, "current": current, "current_from": current_from,
        }).data)


class VersionGradeView(APIView):
    def _version(self, request, pk: int):
        version = version_list(user=request.user).filter(pk=pk).first()
        if version is None:
            raise exceptions.NotFound()
        return version

    @extend_schema(responses={200: VersionGradeSerializer, 404: OpenApiResponse(description="No such version, "
                                                                                            "or it has no grade")})
    def get(self, request, pk: int):
        """The grade the version was made with (``baked``) or is reviewed with (``reviewed``)."""
        link = selectors.version_grade_of(self._version(request, pk))
        if link is None:
            raise exceptions.NotFound("This version has no grade recorded.")
        return Response(VersionGradeSerializer(link, context={"request": request}).data)

    @extend_schema(request=VersionGradeSetSerializer, responses={200: VersionGradeSerializer, **GRADE_ERRORS})
    def put(self, request, pk: int):
        """Record the grade the version is reviewed with (a grade of its shot or its scene), while
        it is a draft or in review; restorers, archivists and creators (not viewers)."""
        version = self._version(request, pk)
        film_id = version.shot.film_id
        role = require_film_action(user=request.user, film_id=film_id, action=Action.VIEW)
        if not any(can(user=request.user, film_id=film_id, action=needed, role=role or "")
                   for needed in (Action.GRADE, Action.DECIDE)):
            raise exceptions.PermissionDenied(f"Your role on this film ({role}) does not allow recording the grade "
                                              "a version is reviewed with.")
        body = VersionGradeSetSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        link = services.version_grade_record(version=version, grade=body.validated_data["grade"], mode="reviewed",
                                             user=request.user)
        return Response(VersionGradeSerializer(link, context={"request": request}).data)
