"""``/api/notifications/``: the requesting user's own notifications; mark one or all read.
``/api/me/notification-settings/``: the requesting user's own e-mail settings (nobody else's is reachable)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from webapp.api.filters import StrictFilterBackend, StrictOrderingFilter
from webapp.api.pagination import StandardPagination
from webapp.notifications import selectors, services
from webapp.notifications.filters import NotificationFilter
from webapp.notifications.serializers import NotificationSerializer, NotificationSettingsSerializer

MarkedSerializer = inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField(), "unread": serializers.IntegerField()})


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Newest first. Another user's notification is a 404. ``?unread=true`` with the page's
    ``count`` gives the bell's number."""

    serializer_class = NotificationSerializer
    pagination_class = StandardPagination
    filter_backends = [StrictFilterBackend, StrictOrderingFilter]
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(notification=self.get_object(), user=request.user)
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = services.notification_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread": selectors.notification_unread_count(user=request.user)})


class NotificationSettingsView(generics.GenericAPIView):
    """Which notifications you also get by e-mail. ``GET`` answers your settings (the defaults until
    you change one); ``PATCH`` changes the switches it names and answers them all. An unknown or
    read-only key is a 400 naming it."""

    serializer_class = NotificationSettingsSerializer
    pagination_class = None
    filter_backends = []

    def get(self, request):
        return Response(self.get_serializer(selectors.notification_settings_get(user=request.user)).data)

    def patch(self, request):
        serializer = self.get_serializer(selectors.notification_settings_get(user=request.user), data=request.data,
                                         partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.notification_settings_update(user=request.user, **serializer.validated_data)
        return Response(self.get_serializer(updated).data)
