"""``/api/notifications/``: the requesting user's own notifications; mark one or all read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from webapp.api.filters import StrictFilterBackend, StrictOrderingFilter
from webapp.api.pagination import StandardPagination
from webapp.notifications import selectors, services
from webapp.notifications.filters import NotificationFilter
from webapp.notifications.serializers import NotificationSerializer

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
