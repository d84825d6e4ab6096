"""Admin for the catalogue. Built for big tables (150,000 shots): foreign keys are raw ids
(no select of every row), lists select their relations, and no full COUNT(*) on filtered pages."""

from django.contrib import admin

from webapp.api.admin_base import ReadOnlyAdmin
from webapp.catalogue.models import Film, Invitation, MediaAsset, Membership, Shot, ShotVersion


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Film)
class FilmAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "directors", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "original_title", "directors"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "film", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "film__title"]
    raw_id_fields = ["user", "film"]
    list_select_related = ["user", "film"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """View only: invitations are made and answered through the API and the pages."""

    list_display = ["id", "film", "invitee", "role", "status", "invited_by", "created_at", "responded_at"]
    list_filter = ["status", "role"]
    search_fields = ["invitee", "film__title"]
    list_select_related = ["film", "invited_by"]
    show_full_result_count = False


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["id", "film", "kind", "original_name", "codec", "width", "height", "fps", "frame_count", "size_bytes"]
    list_filter = ["kind"]
    search_fields = ["original_name", "film__title"]
    raw_id_fields = ["film"]
    list_select_related = ["film"]
    # What the probe found in an image sequence: facts of the stored frames, not settings.
    readonly_fields = ["created_at", "sequence_pattern", "sequence_first", "sequence_last", "sequence_format",
                       "sequence_bits", "sequence_transfer", "sequence_timecode"]
    show_full_result_count = False


@admin.register(Shot)
class ShotAdmin(admin.ModelAdmin):
    list_display = ["id", "film", "number", "start_frame", "end_frame", "fps", "status"]
    list_filter = ["status"]
    search_fields = ["film__title"]
    raw_id_fields = ["film", "source", "approved_version"]
    list_select_related = ["film"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False


@admin.register(ShotVersion)
class ShotVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "shot", "number", "status", "author", "published_at"]
    list_filter = ["status"]
    search_fields = ["shot__film__title", "notes"]
    raw_id_fields = ["shot", "based_on", "author", "media"]
    list_select_related = ["shot__film", "author"]
    readonly_fields = ["created_at"]
    show_full_result_count = False
