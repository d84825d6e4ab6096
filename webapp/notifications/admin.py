"""Admin for notifications: browse and search only (they are written by the app)."""

from django.contrib import admin

from webapp.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "kind", "film", "text", "read_at", "created_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "text"]
    raw_id_fields = ["recipient", "film", "shot", "version", "comment", "decision"]
    list_select_related = ["recipient", "film"]
    readonly_fields = ["created_at"]
    show_full_result_count = False
