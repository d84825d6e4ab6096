"""REST endpoints of the catalogue: films, memberships, shots, versions. Thin: selectors read,
services write, access.py decides (through ``FilmScopedViewSet.require``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from webapp.catalogue import selectors, services
from webapp.catalogue.access import Action, can_create_film
from webapp.catalogue.api_base import FilmScopedViewSet
from webapp.catalogue.filters import FilmFilter, InvitationFilter, MembershipFilter, ShotFilter, ShotVersionFilter
from webapp.catalogue.serializers import (
    FilmSerializer,
    InvitationSerializer,
    MembershipSerializer,
    ShotSerializer,
    ShotVersionSerializer,
)


class FilmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, FilmScopedViewSet):
    """Films you are a member of (all films for staff), with review progress.

    Staff create films; so do archivists (of any film), who become the new film's archivist.
    Archivists and staff edit a film. Films are deleted in the admin only.
    """

    serializer_class = FilmSerializer
    filterset_class = FilmFilter
    search_fields = ["title", "original_title", "directors"]
    ordering_fields = ["title", "year", "status", "created_at", "updated_at", "id"]
    ordering = ["title", "id"]

    object_actions = {"update": Action.EDIT_FILM, "partial_update": Action.EDIT_FILM}

    def get_queryset(self):
        return selectors.film_list(user=self.request.user)

    def film_id_of(self, film):
        return film.pk

    def create(self, request, *args, **kwargs):
        if not can_create_film(user=request.user):
            raise PermissionDenied("Only staff and archivists can create films.")
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        film = services.film_create(created_by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=film.pk)

    def perform_update(self, serializer):
        film = services.film_update(film=serializer.instance, fields=serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=film.pk)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                        mixins.DestroyModelMixin, FilmScopedViewSet):
    """Who has which role on a film. Every member sees them; archivists (and staff) change roles and
    remove members. Nobody is added here (POST is 405): an archivist invites
    (``/api/invitations/``) and the user accepts. A film's last archivist cannot be removed or demoted."""

    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["film", "role", "created_at", "id"]
    ordering = ["film_id", "role", "user_id"]

    object_actions = {
        "update": Action.MANAGE_MEMBERS, "partial_update": Action.MANAGE_MEMBERS, "destroy": Action.MANAGE_MEMBERS,
    }

    def get_queryset(self):
        return selectors.membership_list(user=self.request.user)

    def film_id_of(self, membership):
        return membership.film_id

    def perform_update(self, serializer):
        role = serializer.validated_data.get("role", serializer.instance.role)
        serializer.instance = services.membership_update(membership=serializer.instance, role=role)

    def perform_destroy(self, instance):
        services.membership_delete(membership=instance)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        FilmScopedViewSet):
    """Invitations to join a film: archivists (and staff) invite by username or e-mail address with a
    role; the invited user sees the invitation and accepts (becoming a member) or declines it. The
    answer to an invitation is the same whether or not the account exists. You see invitations
    addressed to you and those of the films whose members you manage."""

    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["created_at", "status", "id"]
    ordering = ["-created_at", "-id"]
    object_actions = {"cancel": Action.MANAGE_MEMBERS}

    def get_queryset(self):
        return selectors.invitation_list(user=self.request.user)

    def film_id_of(self, invitation):
        return invitation.film_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require(film_id=data["film"].pk, action=Action.MANAGE_MEMBERS)
        invitation = services.invitation_create(
            film=data["film"], invited_by=self.request.user, invitee=data["invitee"], role=data["role"]
        )
        serializer.instance = self.get_queryset().get(pk=invitation.pk)

    def _answer(self, answer):
        invitation = self.get_object()
        if invitation.user_id != self.request.user.pk:
            raise PermissionDenied("Only the invited user answers an invitation.")
        answer(invitation=invitation, user=self.request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=invitation.pk)).data)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Join the film with the invitation's role (the invited user only)."""
        return self._answer(services.invitation_accept)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Turn the invitation down (the invited user only)."""
        return self._answer(services.invitation_decline)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw a pending invitation (the film's archivists)."""
        invitation = services.invitation_cancel(invitation=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=invitation.pk)).data)


class ShotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """Shots of the films you can see. Read-only here: ingest and analysis create them."""

    serializer_class = ShotSerializer
    filterset_class = ShotFilter
    ordering_fields = ["number", "start_frame", "status", "updated_at", "id"]
    ordering = ["film_id", "number"]

    def get_queryset(self):
        return selectors.shot_list(user=self.request.user)


class ShotVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.UpdateModelMixin, FilmScopedViewSet):
    """Versions of shots. Restorers and archivists create drafts, edit their notes, and publish
    them for review; decisions then move them to approved or rejected."""

    serializer_class = ShotVersionSerializer
    filterset_class = ShotVersionFilter
    ordering_fields = ["number", "created_at", "published_at", "status", "id"]
    ordering = ["shot_id", "number"]

    object_actions = {"update": Action.PUBLISH, "partial_update": Action.PUBLISH, "publish": Action.PUBLISH}

    def get_queryset(self):
        return selectors.version_list(user=self.request.user)

    def film_id_of(self, version):
        return version.shot.film_id

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require(film_id=data["shot"].film_id, action=Action.PUBLISH)
        version = services.version_create(
            shot=data["shot"], author=self.request.user, pipeline_spec=data.get("pipeline_spec"),
            notes=data.get("notes", ""), based_on=data.get("based_on"), media=data.get("media"),
        )
        serializer.instance = self.get_queryset().get(pk=version.pk)

    def perform_update(self, serializer):
        version = serializer.instance
        serializer.instance = services.version_update(
            version=version, notes=serializer.validated_data.get("notes", version.notes)
        )

    @extend_schema(request=None, responses={200: ShotVersionSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Move a draft to review (sets ``published_at``)."""
        version = self.get_object()
        services.version_publish(version=version)
        return Response(self.get_serializer(self.get_queryset().get(pk=version.pk)).data, status=status.HTTP_200_OK)
