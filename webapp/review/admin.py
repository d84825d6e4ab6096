"""Admin for review data. Decisions are the sign-off record: read-only here (append-only)."""

from django.contrib import admin

from webapp.api.admin_base import ReadOnlyAdmin, RecordAdmin
from webapp.review.models import ApprovalPolicy, ApprovalPolicyChange, Comment, Decision


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
    readonly_fields = ["version", "reviewer", "role", "verdict", "note", "required_roles", "required_members", "outcome",
                       "created_at"]
    show_full_result_count = False


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(ReadOnlyAdmin):
    """Which roles must approve a film's versions (a film without a row uses archivist and creator;
    a required role nobody holds keeps versions from passing, see docs/API.md "Approval policy").
    View only: a change goes through the API (``approval_policy_save``), which records it."""

    list_display = ["film", "archivist_required", "creator_required"]
    list_select_related = ["film"]
    readonly_fields = ["film", "archivist_required", "creator_required"]


@admin.register(ApprovalPolicyChange)
class ApprovalPolicyChangeAdmin(RecordAdmin):
    """View only: the record of policy changes."""

    list_display = ["id", "film", "changed_by", "archivist_required", "creator_required", "created_at"]
    list_select_related = ["film", "changed_by"]
    readonly_fields = ["film", "changed_by", "archivist_required", "creator_required", "required_members", "decided",
                       "created_at"]
    show_full_result_count = False
