"""REST endpoints of live review sessions: create, list, read, end; guest invitations.

Any member of a film (a role that may comment) opens a session on it; its members see it. The
session's creator, its current host, the film's archivists and staff end it and manage its
guests. Playback itself goes over the session socket, not through here.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from webapp.catalogue.access import Action, film_role
from webapp.catalogue.api_base import FilmScopedViewSet
from webapp.live import selectors, services
from webapp.live.filters import ReviewSessionFilter
from webapp.live.models import GuestInvite
from webapp.live.serializers import (
    GuestInviteCreatedSerializer,
    GuestInviteCreateSerializer,
    GuestInviteSerializer,
    ReviewSessionCreateSerializer,
    ReviewSessionSerializer,
)


class ReviewSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FilmScopedViewSet):
    """Live review sessions of the films you are a member of, newest first."""

    serializer_class = ReviewSessionSerializer
    filterset_class = ReviewSessionFilter
    search_fields = ["title"]
    ordering_fields = ["created_at", "ended_at", "title", "id"]
    ordering = ["-created_at", "-id"]
    object_actions = {"end": Action.VIEW, "invites": Action.VIEW, "invite_revoke": Action.VIEW}

    def get_queryset(self):
        return selectors.session_list(user=self.request.user)

    def film_id_of(self, session):
        return session.film_id

    def _managed_session(self):
        session = self.get_object()
        role = film_role(user=self.request.user, film_id=session.film_id)
        if not selectors.session_may_manage(user=self.request.user, session=session, role=role):
            raise PermissionDenied("Only the session's creator, its host or the film's archivists can do this.")
        return session

    @extend_schema(request=ReviewSessionCreateSerializer, responses={201: ReviewSessionSerializer})
    def create(self, request, *args, **kwargs):
        """Open a session on a film with a playlist of its shot versions; you host it."""
        body = ReviewSessionCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        film = body.validated_data["film"]
        self.require(film_id=film.pk, action=Action.COMMENT)
        session = services.session_create(film=film, created_by=request.user, title=body.validated_data["title"],
                                          versions=body.validated_data["versions"])
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ReviewSessionSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the session: every socket is told and closed; guest links stop working."""
        session = services.session_end(session=self._managed_session(), ended_by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data)

    @extend_schema(methods=["get"], request=None, responses={200: GuestInviteSerializer(many=True)})
    @extend_schema(methods=["post"], request=GuestInviteCreateSerializer, responses={201: GuestInviteCreatedSerializer})
    # Unpaginated (a session has a few guests): pagination_class=None says so to the schema.
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def invites(self, request, pk=None):
        """Guest links of the session (GET), or a new one (POST): the link is in the answer, once."""
        session = self._managed_session()
        if request.method == "GET":
            invites = GuestInvite.objects.filter(session=session).order_by("-created_at", "-id")
            return Response(GuestInviteSerializer(invites, many=True).data)
        body = GuestInviteCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invite, token = services.guest_invite_create(session=session, created_by=request.user, **body.validated_data)
        invite.join_url = request.build_absolute_uri(reverse("review-session-join", args=[token]))
        return Response(GuestInviteCreatedSerializer(invite).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: GuestInviteSerializer})
    @action(detail=True, methods=["post"], url_path="invites/<id:invite_id>/revoke")
    def invite_revoke(self, request, pk=None, invite_id=None):
        """Revoke a guest link: it stops working and the guest is removed from the session."""
        session = self._managed_session()
        invite = GuestInvite.objects.filter(session=session, pk=invite_id).first()
        if invite is None:
            raise NotFound()
        return Response(GuestInviteSerializer(services.guest_invite_revoke(invite=invite)).data)
