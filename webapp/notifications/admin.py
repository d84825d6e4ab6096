"""Admin for notifications: browse and search only (they are written by the app)."""

from django.contrib import admin

from webapp.notifications.models import Notification, NotificationSettings


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "kind", "film", "text", "read_at", "emailed_at", "created_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "text"]
    raw_id_fields = ["recipient", "film", "shot", "version", "comment", "decision"]
    list_select_related = ["recipient", "film"]
    readonly_fields = ["created_at", "emailed_at"]
    show_full_result_count = False


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "email_enabled", "email_mentions", "email_decisions", "email_invitations",
                    "email_review_requests", "updated_at"]
    list_filter = ["email_enabled"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
