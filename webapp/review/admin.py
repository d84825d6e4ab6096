"""Admin for review data. Decisions are the sign-off record: read-only here (append-only)."""

from django.contrib import admin

from webapp.api.admin_base import RecordAdmin
from webapp.review.models import ApprovalPolicy, Comment, Decision


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "version", "frame", "frame_end", "author", "resolved", "created_at"]
    list_filter = ["resolved"]
    search_fields = ["text", "author__username"]
    raw_id_fields = ["version", "author", "reply_to"]
    list_select_related = ["version__shot__film", "author"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False


@admin.register(Decision)
class DecisionAdmin(RecordAdmin):
    """View only. A decision is never edited or removed; a new one supersedes it. (So a film
    with decisions cannot be deleted from the admin either: its record would go with it.)"""

    list_display = ["id", "version", "reviewer", "role", "verdict", "created_at"]
    list_filter = ["verdict", "role"]
    search_fields = ["reviewer__username", "note"]
    list_select_related = ["version__shot__film", "reviewer"]
    readonly_fields = ["version", "reviewer", "role", "verdict", "note", "created_at"]
    show_full_result_count = False


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    """Which roles must approve a film's versions (a film without a row uses archivist and creator;
    a required role nobody holds on the film is skipped, see docs/API.md "Approval policy")."""

    list_display = ["film", "archivist_required", "creator_required"]
    raw_id_fields = ["film"]
    list_select_related = ["film"]
