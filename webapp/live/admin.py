"""Admin for live sessions: for looking and for revoking by hand; sessions are run from the page."""

from django.contrib import admin

from webapp.live.models import GuestInvite, PlaylistItem, ReviewSession


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    raw_id_fields = ["version"]
    extra = 0


@admin.register(ReviewSession)
class ReviewSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "film", "host", "created_by", "created_at", "ended_at"]
    list_filter = ["ended_at"]
    search_fields = ["title", "film__title"]
    raw_id_fields = ["film", "host", "created_by"]
    list_select_related = ["film", "host", "created_by"]
    readonly_fields = ["state_key", "created_at"]
    inlines = [PlaylistItemInline]


@admin.register(GuestInvite)
class GuestInviteAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "session", "expires_at", "revoked_at", "created_by"]
    search_fields = ["display_name", "session__title"]
    raw_id_fields = ["session", "user", "created_by"]
    list_select_related = ["session", "created_by"]
    # The hash is useless to read and must not be edited into a known value.
    readonly_fields = ["token_hash", "created_at"]
