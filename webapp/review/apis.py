"""REST endpoints of review: comments and (append-only) decisions."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from webapp.api.idempotency import idempotent
from webapp.api.pagination import whole_number_param
from webapp.api.routers import MAX_ID
from webapp.api.throttling import WriteRateThrottle
from webapp.catalogue.access import Action, can_comment
from webapp.catalogue.api_base import FilmScopedViewSet
from webapp.catalogue.selectors import film_list, shot_list, version_list
from webapp.review import export, selectors, services
from webapp.review.filters import CommentFilter, DecisionFilter
from webapp.review.serializers import (
    ApprovalPolicyChangeSerializer,
    ApprovalPolicySerializer,
    CommentRevisionSerializer,
    CommentSerializer,
    DecisionSerializer,
    DecisionSummarySerializer,
)

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _id_param(request, name: str) -> int | None:
    if request.query_params.get(name, "") == "":
        return None
    return whole_number_param(request, name, MAX_ID)


class CommentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, FilmScopedViewSet):
    """Frame comments with optional drawings. Any member comments, and a live session's guest on the
    versions of its playlist (while the invitation lasts); authors edit their text and resolve;
    archivists resolve any comment. Comments are not deleted (they are the review record)."""

    serializer_class = CommentSerializer
    filterset_class = CommentFilter
    throttle_classes = [WriteRateThrottle]
    throttle_scope = "comments"
    search_fields = ["text"]
    object_actions = {"history": Action.VIEW}  # members (and staff) only: a guest gets 404
    ordering_fields = ["frame", "created_at", "updated_at", "id"]
    ordering = ["version_id", "frame", "created_at", "id"]

    def get_queryset(self):
        return selectors.comment_list(user=self.request.user)

    def film_id_of(self, comment):
        return comment.version.shot.film_id

    def check_object_permissions(self, request, obj):
        # Not the film role alone: a guest comments on their session's playlist, with no role.
        # Checked before the body is read; what the editor may change is the service's rule.
        super().check_object_permissions(request, obj)
        if self.action in {"update", "partial_update"} and not can_comment(user=request.user, version=obj.version):
            raise exceptions.PermissionDenied("You may no longer comment on this version.")

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        # The version is one the user sees (the serializer's field); comment_create checks that
        # they may comment on it (access.can_comment: members by role, guests on their playlist).
        data = serializer.validated_data
        comment = services.comment_create(
            version=data["version"], author=self.request.user, frame=data["frame"], text=data["text"],
            frame_end=data.get("frame_end"), drawing=data.get("drawing"), reply_to=data.get("reply_to"),
        )
        serializer.instance = self.get_queryset().get(pk=comment.pk)

    @extend_schema(
        parameters=[
            OpenApiParameter("as", str, enum=list(EXPORT_TYPES), description="csv (default) or pdf"),
            OpenApiParameter("shot", int, description="The shot whose notes to export (or give film)"),
            OpenApiParameter("film", int, description="The film whose notes to export (or give shot)"),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        """A shot's or a film's notes (the list filters apply: version, resolved...) as CSV, or as a
        PDF with one page per comment showing its annotated still."""
        kind = request.query_params.get("as", "csv")
        if kind not in EXPORT_TYPES:
            raise exceptions.ValidationError({"as": [f"Must be one of {', '.join(EXPORT_TYPES)}, got {kind!r}."]})
        shot_id, film_id = _id_param(request, "shot"), _id_param(request, "film")
        if shot_id is not None:
            shot = shot_list(user=request.user).select_related("film").filter(pk=shot_id).first()
            if shot is None:
                raise exceptions.NotFound()
            name = f"{shot.film.title} shot {shot.number}"
        elif film_id is not None:
            film = film_list(user=request.user).filter(pk=film_id).first()
            if film is None:
                raise exceptions.NotFound()
            name = film.title
        else:
            raise exceptions.ValidationError({"shot": ["Name the shot (?shot=<id>) or the film (?film=<id>) to export."]})
        comments = (
            self.filter_queryset(self.get_queryset())
            .select_related("version__shot__film", "version__shot__source", "version__media", "author__guest_invite")
            .order_by("version__shot__number", "version__number", "frame", "created_at", "id")
        )
        if kind == "pdf":
            count = comments.count()
            if count > export.MAX_PDF_PAGES:
                raise exceptions.ValidationError({"as": [
                    f"{count} comments are too many for one PDF (at most {export.MAX_PDF_PAGES}); "
                    "narrow the export with version= or resolved=, or export CSV."
                ]})
            body = export.comments_pdf(comments)
        else:
            body = export.comments_csv(comments)
        response = HttpResponse(body, content_type=EXPORT_TYPES[kind])
        response["Content-Disposition"] = f'attachment; filename="notes-{slugify(name)}.{kind}"'
        return response

    @extend_schema(responses=CommentRevisionSerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def history(self, request, pk=None):
        """The comment's earlier texts, oldest first: one entry per edit, with the text it replaced,
        who edited and when (the current text is the comment's own). For the film's members."""
        comment = self.get_object()
        return Response(CommentRevisionSerializer(selectors.comment_history(comment=comment), many=True).data)

    def perform_update(self, serializer):
        comment = serializer.instance
        data = serializer.validated_data
        serializer.instance = services.comment_update(
            comment=comment, editor=self.request.user, text=data.get("text"), resolved=data.get("resolved")
        )


class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, FilmScopedViewSet):
    """Verdicts on versions in review, by archivists and creators. Append-only: a reviewer who
    changes their mind records a new decision, which supersedes their earlier one."""

    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter
    throttle_classes = [WriteRateThrottle]
    throttle_scope = "decisions"
    ordering_fields = ["created_at", "id"]
    ordering = ["version_id", "created_at", "id"]

    def get_queryset(self):
        return selectors.decision_list(user=self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("version", int, required=True)], responses=DecisionSummarySerializer
    )
    @action(detail=False, methods=["get"])
    def summary(self, request):
        """The decisions panel: required roles (the film's approval policy), each reviewer's current
        verdict, and whether you may decide now (and why not)."""
        version_id = _id_param(request, "version")
        if version_id is None:
            raise exceptions.ValidationError({"version": ["Name the version: ?version=<id>."]})
        version = version_list(user=request.user).select_related("shot").filter(pk=version_id).first()
        if version is None:
            raise exceptions.NotFound()
        summary = selectors.decision_summary(version=version, user=request.user)
        return Response(DecisionSummarySerializer(summary).data)

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require(film_id=data["version"].shot.film_id, action=Action.DECIDE)
        decision = services.decision_record(
            version=data["version"], reviewer=self.request.user, verdict=data["verdict"], note=data.get("note", ""),
            frame=data.get("frame"), drawing=data.get("drawing"),
        )
        serializer.instance = self.get_queryset().get(pk=decision.pk)


class ApprovalPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            mixins.UpdateModelMixin, FilmScopedViewSet):
    """Which roles must approve a film's versions. Members read it; archivists set it (a film
    without one uses archivist and creator). Saving applies the rule to the versions in review and
    is recorded (``changes``: who changed it, when, and what it decided)."""

    serializer_class = ApprovalPolicySerializer
    ordering_fields = ["film", "id"]
    ordering = ["film", "id"]
    filterset_fields = ["film"]
    object_actions = {"update": Action.EDIT_FILM, "partial_update": Action.EDIT_FILM}

    def get_queryset(self):
        return selectors.approval_policy_list(user=self.request.user)

    @extend_schema(parameters=[OpenApiParameter("film", int, required=True)],
                   responses=ApprovalPolicyChangeSerializer(many=True))
    @action(detail=False, methods=["get"])
    def changes(self, request):
        """The record of a film's policy changes, oldest first."""
        film_id = _id_param(request, "film")
        if film_id is None:
            raise exceptions.ValidationError({"film": ["Name the film: ?film=<id>."]})
        rows = selectors.approval_policy_change_list(user=request.user).filter(film_id=film_id).order_by("created_at", "id")
        page = self.paginate_queryset(rows)  # paginated as every list (the schema says so)
        return self.get_paginated_response(ApprovalPolicyChangeSerializer(page, many=True).data)

    def film_id_of(self, policy):
        return policy.film_id

    def perform_create(self, serializer):
        film = serializer.validated_data["film"]
        self.require(film_id=film.pk, action=Action.EDIT_FILM)
        if selectors.approval_policy_list(user=self.request.user).filter(film=film).exists():
            raise exceptions.ValidationError({"film": ["This film already has a policy: change it with PATCH."]})
        self._save(serializer, film)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance.film)

    def _save(self, serializer, film):
        data = serializer.validated_data
        current = serializer.instance
        policy = services.approval_policy_save(
            film=film,
            archivist_required=data.get("archivist_required", current.archivist_required if current else True),
            creator_required=data.get("creator_required", current.creator_required if current else True),
            changed_by=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=policy.pk)
