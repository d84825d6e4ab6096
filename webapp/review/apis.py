"""REST endpoints of review: comments and (append-only) decisions."""

from __future__ import annotations

from rest_framework import mixins

from webapp.api.views import FilmScopedViewSet
from webapp.catalogue.access import Action
from webapp.review import selectors, services
from webapp.review.filters import CommentFilter, DecisionFilter
from webapp.review.serializers import CommentSerializer, DecisionSerializer


class CommentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, FilmScopedViewSet):
    """Frame comments with optional drawings. Any member comments; authors edit their text and
    resolve; archivists resolve any comment. Comments are not deleted (they are the review record)."""

    serializer_class = CommentSerializer
    filterset_class = CommentFilter
    search_fields = ["text"]
    ordering_fields = ["frame", "created_at", "updated_at", "id"]
    ordering = ["version_id", "frame", "created_at", "id"]

    object_actions = {"update": Action.COMMENT, "partial_update": Action.COMMENT}

    def get_queryset(self):
        return selectors.comment_list(user=self.request.user)

    def film_id_of(self, comment):
        return comment.version.shot.film_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require(film_id=data["version"].shot.film_id, action=Action.COMMENT)
        comment = services.comment_create(
            version=data["version"], author=self.request.user, frame=data["frame"], text=data["text"],
            frame_end=data.get("frame_end"), drawing=data.get("drawing"), reply_to=data.get("reply_to"),
        )
        serializer.instance = self.get_queryset().get(pk=comment.pk)

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
    ordering_fields = ["created_at", "id"]
    ordering = ["version_id", "created_at", "id"]

    def get_queryset(self):
        return selectors.decision_list(user=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require(film_id=data["version"].shot.film_id, action=Action.DECIDE)
        decision = services.decision_record(
            version=data["version"], reviewer=self.request.user, verdict=data["verdict"], note=data.get("note", "")
        )
        serializer.instance = self.get_queryset().get(pk=decision.pk)
