"""Admin for the API's own rows: idempotency keys, for looking only (the API writes them and the
sweep removes them after 24 h)."""

from django.contrib import admin

from webapp.api.admin_base import RecordAdmin
from webapp.api.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(RecordAdmin):
    list_display = ["id", "user", "key", "method", "path", "state", "response_status", "created_at"]
    list_filter = ["state", "method"]
    search_fields = ["key", "path", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "key", "method", "path", "request_hash", "state", "locked_at", "response_status",
                       "response_body", "created_at"]
    show_full_result_count = False
