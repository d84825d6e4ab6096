"""The JSON shape of a notification (API and ``ws/notifications/`` pushes)."""

from __future__ import annotations

from urllib.parse import urlencode

from rest_framework import serializers

from webapp.api.serializers import StrictModelSerializer
from webapp.notifications.models import Notification, NotificationSettings


class NotificationSerializer(serializers.ModelSerializer):
    film_title = serializers.CharField(source="film.title", read_only=True)
    url = serializers.SerializerMethodField(help_text="The shot review page at the version (and frame) concerned")

    class Meta:
        model = Notification
        fields = [
            "id", "kind", "text", "film", "film_title", "shot", "version", "comment", "decision", "grade", "invitation",
            "url",
            "read_at", "created_at",
        ]
        read_only_fields = fields

    def get_url(self, notification: Notification) -> str:
        return notification_path(notification)


def notification_path(notification: Notification) -> str:
    """The page a notification leads to (the site's path; e-mails prefix SITE_URL)."""
    if notification.invitation_id is not None:
        return "/invitations/"
    if notification.shot_id is None:
        return f"/films/{notification.film_id}/"
    query = {}
    if notification.version_id is not None:
        query.update(a="original", b=f"v{notification.version.number}")
    if notification.comment_id is not None:
        query["frame"] = notification.comment.frame
    if notification.grade_id is not None:
        query["grade"] = notification.grade_id  # the shot page's colour panel opens it
    suffix = f"?{urlencode(query)}" if query else ""
    return f"/films/{notification.film_id}/shots/{notification.shot_id}/{suffix}"


class NotificationSettingsSerializer(StrictModelSerializer):
    """The user's e-mail settings: a PATCH names any of the switches; anything else is a 400."""

    email_address = serializers.CharField(
        source="user.email", read_only=True,
        help_text="Where e-mails go: the account's address (empty: no e-mail is sent, whatever the switches)",
    )

    class Meta:
        model = NotificationSettings
        fields = ["email_enabled", "email_mentions", "email_decisions", "email_invitations", "email_review_requests",
                  "email_address"]
