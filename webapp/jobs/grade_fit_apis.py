"""``POST /api/films/<film_id>/grade-fit/``: learn a grade of a shot or a scene from graded
reference stills, as a job (cpu queue). Here, in jobs, because it starts a job (colour, below,
imports nothing of jobs); the references are colour's (``colour.references``).

Two bodies:

- multipart: ``shot`` (or ``scene``), 1 to 8 files ``still`` with as many ``frame`` fields in the
  same order (for a scene, ``still_shot`` too: the shot of each frame), ``parent``, ``note``;
  each still streamed to disk within ``MAX_STILL_BYTES`` (413 past it);
- JSON: ``{"shot" | "scene": id, "references": [{"version": id, "frame": n}], "parent", "note"}``:
  frame ``n`` of another version of the shot is the graded still.

Restorers and archivists (``Action.GRADE``); another film is a 404. Bad input is a 400 naming
the problem (a frame outside its shot, a still that is no picture or cannot be registered to its
frame: another picture or framing), and nothing is kept.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.parsers import BoundedJSONParser
from webapp.api.serializers import StrictSerializer
from webapp.api.throttling import WriteRateThrottle
from webapp.api.uploads import CheckAccessBeforeBody
from webapp.catalogue.access import Action
from webapp.catalogue.api_base import require_film_action
from webapp.catalogue.selectors import film_list, shot_list, version_list
from webapp.colour.apis import UploadTooLarge, id_param, streamed_uploads, uploads_closed, visible_or_400
from webapp.colour.references import MAX_REFERENCES, ReferenceInput
from webapp.colour.selectors import grade_list, scene_list
from webapp.jobs.selectors import job_list
from webapp.jobs.serializers import RestorationJobSerializer
from webapp.jobs.services import job_grade_fit_dispatch

MULTIPART_FIELDS = {"shot", "scene", "still", "frame", "still_shot", "parent", "note"}
JSON_FIELDS = {"shot", "scene", "references", "parent", "note"}


class GradeFitUploadSerializer(serializers.Serializer):
    """Documents the multipart body (the stills are streamed by the upload handler)."""

    shot = serializers.IntegerField(required=False, help_text="The shot to grade (or scene)")
    scene = serializers.IntegerField(required=False, help_text="The scene to grade (or shot)")
    still = serializers.ListField(child=serializers.FileField(), help_text="1 to 8 graded stills: PNG, TIFF, JPEG")
    frame = serializers.ListField(child=serializers.IntegerField(),
                                  help_text="The frame each still grades, from its shot's first frame, in order")
    still_shot = serializers.ListField(child=serializers.IntegerField(), required=False,
                                       help_text="For a scene: the shot of each frame, in order")
    parent = serializers.IntegerField(required=False, help_text="The grade this one follows")
    note = serializers.CharField(required=False, allow_blank=True)


class VersionFrameSerializer(StrictSerializer):
    version = serializers.IntegerField(help_text="A version of the shot: its picture at ``frame`` is the still")
    frame = serializers.IntegerField(help_text="From the shot's first frame")


class GradeFitJsonSerializer(StrictSerializer):
    shot = serializers.IntegerField(required=False)
    scene = serializers.IntegerField(required=False)
    references = VersionFrameSerializer(many=True)
    parent = serializers.IntegerField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)


def _ints(values: list, name: str) -> list[int]:
    out = []
    for value in values:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            raise exceptions.ValidationError({name: [f"Expected whole numbers, got {value!r}."]}) from None
    return out


class GradeFitApi(CheckAccessBeforeBody, APIView):
    parser_classes = [MultiPartParser, BoundedJSONParser]
    throttle_classes = [WriteRateThrottle]
    throttle_scope = "jobs"

    def initialize_request(self, request, *args, **kwargs):
        streamed_uploads(request, settings.MAX_STILL_BYTES)  # before the CSRF check reads the body
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": GradeFitUploadSerializer, "application/json": GradeFitJsonSerializer},
        responses={202: RestorationJobSerializer, 413: OpenApiResponse(description="A still over the limit"),
                   400: OpenApiResponse(description="Bad input, named; nothing is kept"),
                   403: OpenApiResponse(description="A member who may not edit grades (viewer, creator)"),
                   404: OpenApiResponse(description="No such film, or not a member")},
    )
    def post(self, request, film_id: int):
        """Learn a grade of a shot or scene from 1 to 8 graded stills (uploaded, or frames of
        another version): a ``grade_fit`` job (cpu queue) that registers each still, fits the CDL
        then a residual LUT, reports CIEDE2000 on held-out stills and refuses a fit that would not
        generalise. Answers the job (202); the grade it makes is ``/api/grades/?fit_job=<id>``."""
        film = film_list(user=request.user).filter(pk=film_id).first()
        if film is None:
            raise exceptions.NotFound()
        require_film_action(user=request.user, film_id=film.pk, action=Action.GRADE)  # before any still is staged
        try:
            request.data  # noqa: B018 - parse (and stream) the body now: the size check reads the result
            if getattr(request._request, "upload_too_large", False):
                raise UploadTooLarge(f"still: larger than the still limit of {settings.MAX_STILL_BYTES} bytes")
            return self._start(request, film)
        finally:
            uploads_closed(request)

    def _start(self, request, film) -> Response:
        data = request.data
        multipart = request.content_type.startswith("multipart/")
        if not hasattr(data, "keys"):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object or a multipart form."]})
        unknown = sorted(set(data.keys()) - (MULTIPART_FIELDS if multipart else JSON_FIELDS))
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown field."] for name in unknown})
        user = request.user
        shot = visible_or_400(shot_list(user=user).select_related("source"), id_param(data, "shot"), "shot")
        scene = visible_or_400(scene_list(user=user), id_param(data, "scene"), "scene")
        parent = visible_or_400(grade_list(user=user), id_param(data, "parent"), "parent")
        note = data.get("note", "")
        references = self._uploads(request, user) if multipart else self._versions(data, user)
        job = job_grade_fit_dispatch(film=film, user=user, references=references, shot=shot, scene=scene,
                                     parent=parent, note=note if isinstance(note, str) else None)
        return Response(RestorationJobSerializer(job_list(user=user).get(pk=job.pk)).data,
                        status=status.HTTP_202_ACCEPTED)

    def _uploads(self, request, user) -> list[ReferenceInput]:
        stills = request.FILES.getlist("still")
        frames = _ints(request.data.getlist("frame"), "frame")
        shot_ids = _ints(request.data.getlist("still_shot"), "still_shot")
        if not stills:
            raise exceptions.ValidationError({"still": [
                f"Send 1 to {MAX_REFERENCES} graded stills in the multipart field 'still'."]})
        if len(frames) != len(stills):
            raise exceptions.ValidationError({"frame": [f"Give one frame per still: {len(stills)} stills, "
                                                        f"{len(frames)} frames."]})
        if shot_ids and len(shot_ids) != len(stills):
            raise exceptions.ValidationError({"still_shot": [f"Give one shot per still: {len(stills)} stills, "
                                                             f"{len(shot_ids)} shots."]})
        shots = shot_list(user=user).select_related("source")
        return [ReferenceInput(frame=frame, upload=still,
                               shot=visible_or_400(shots, shot_ids[n], "still_shot") if shot_ids else None)
                for n, (still, frame) in enumerate(zip(stills, frames, strict=True))]

    def _versions(self, data, user) -> list[ReferenceInput]:
        raw = data.get("references")
        if not isinstance(raw, list) or not raw:
            raise exceptions.ValidationError({"references": [
                f"A list of 1 to {MAX_REFERENCES} {{\"version\": id, \"frame\": n}}."]})
        versions = version_list(user=user).select_related("media", "shot__source")
        out = []
        for n, item in enumerate(raw):
            if not isinstance(item, dict) or set(item) != {"version", "frame"}:
                raise exceptions.ValidationError({"references": [f"references[{n}]: expected exactly "
                                                                 "{\"version\": id, \"frame\": n}."]})
            version = visible_or_400(versions, id_param(item, "version", required=True), "references")
            out.append(ReferenceInput(frame=item["frame"], version=version))
        return out
