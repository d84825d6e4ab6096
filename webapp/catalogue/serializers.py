"""Shapes of catalogue objects in the API. Writes go through services.py, not ``save()``."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.api.serializers import StrictModelSerializer, VisibleRelatedField
from webapp.catalogue import selectors
from webapp.catalogue.access import visible_films
from webapp.catalogue.models import Film, Invitation, MediaAsset, Membership, Role, Shot, ShotVersion


class FilmSerializer(StrictModelSerializer):
    shot_count = serializers.IntegerField(read_only=True, help_text="Shots in the film")
    approved_shot_count = serializers.IntegerField(read_only=True, help_text="Shots with an approved version")
    progress = serializers.SerializerMethodField(help_text="approved_shot_count / shot_count, 0 without shots")
    my_role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, allow_null=True, help_text="Your role on the film (null for staff)"
    )

    class Meta:
        model = Film
        fields = [
            "id", "title", "original_title", "year", "directors", "runtime_minutes", "source_notes", "inventory_number",
            "status", "hosts_may_invite_guests", "frame_number_start", "shot_count", "approved_shot_count", "progress",
            "my_role", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "year": {"min_value": 1870, "max_value": 2100},
            "runtime_minutes": {"min_value": 1},
            "frame_number_start": {"min_value": 0, "max_value": 9_999_999},
        }

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_progress(self, film: Film) -> float:
        total = getattr(film, "shot_count", 0) or 0
        return round((getattr(film, "approved_shot_count", 0) or 0) / total, 4) if total else 0.0


class MembershipSerializer(StrictModelSerializer):
    """A member of a film. Made only by accepting an invitation (``InvitationSerializer``): no field
    here names an account that is not already a member, so nothing lists or probes usernames."""

    film = serializers.PrimaryKeyRelatedField(read_only=True)
    user = serializers.CharField(source="user.username", read_only=True, help_text="The member's username")
    user_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "film", "user", "user_id", "role", "created_at"]
        read_only_fields = ["created_at"]
        create_only_fields = ["film", "user"]


class InvitationSerializer(StrictModelSerializer):
    """An invitation to join a film. ``invitee`` is what the archivist typed; which account (if any)
    it named is never shown, so the answer is the same whether or not one exists."""

    film = VisibleRelatedField(model=Film, selector=visible_films)
    film_title = serializers.CharField(source="film.title", read_only=True)
    invited_by_username = serializers.CharField(source="invited_by.username", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "film", "film_title", "role", "invitee", "status", "invited_by", "invited_by_username",
                  "created_at", "responded_at"]
        read_only_fields = ["status", "invited_by", "created_at", "responded_at"]
        create_only_fields = ["film", "role", "invitee"]
        extra_kwargs = {"invitee": {"help_text": "A username or an e-mail address"}}

    def validate_invitee(self, value: str) -> str:
        return value.strip()


def _preview_urls(name: str, pk: int, has_media: bool) -> dict[str, str | None]:
    """URLs of the thumbnail and filmstrip JPEGs (webapp/catalogue/preview_apis.py)."""
    if not has_media:
        return {"thumbnail_url": None, "filmstrip_url": None}
    return {f"{kind}_url": reverse(name, kwargs={"pk": pk, "kind": kind}) for kind in ("thumbnail", "filmstrip")}


class ShotSerializer(StrictModelSerializer):
    frame_count = serializers.IntegerField(read_only=True, help_text="end_frame - start_frame + 1")
    version_count = serializers.IntegerField(read_only=True)
    thumbnail_url = serializers.SerializerMethodField(help_text="Middle frame of the original, small JPEG")
    filmstrip_url = serializers.SerializerMethodField(help_text="Frames of the original side by side, one JPEG")

    class Meta:
        model = Shot
        fields = [
            "id", "film", "number", "start_frame", "end_frame", "frame_count", "fps", "source", "status",
            "approved_version", "version_count", "metrics", "transition_in", "thumbnail_url", "filmstrip_url", "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_thumbnail_url(self, shot) -> str | None:
        return _preview_urls("shot-preview", shot.pk, shot.source_id is not None)["thumbnail_url"]

    def get_filmstrip_url(self, shot) -> str | None:
        return _preview_urls("shot-preview", shot.pk, shot.source_id is not None)["filmstrip_url"]


class ShotVersionSerializer(StrictModelSerializer):
    film = serializers.IntegerField(source="shot.film_id", read_only=True)
    shot = VisibleRelatedField(model=Shot, selector=selectors.shot_list)
    based_on = VisibleRelatedField(
        model=ShotVersion, selector=selectors.version_list, required=False, allow_null=True
    )
    media = VisibleRelatedField(model=MediaAsset, selector=selectors.asset_list, required=False, allow_null=True)
    author_username = serializers.CharField(source="author.username", read_only=True, default=None)
    pipeline_spec = serializers.JSONField(required=False, help_text="The pipeline that produced the version")
    thumbnail_url = serializers.SerializerMethodField(help_text="Middle frame of the version, small JPEG")
    filmstrip_url = serializers.SerializerMethodField(help_text="Frames of the version side by side, one JPEG")

    class Meta:
        model = ShotVersion
        fields = [
            "id", "film", "shot", "number", "based_on", "pipeline_spec", "status", "author", "author_username",
            "media", "notes", "thumbnail_url", "filmstrip_url", "created_at", "published_at",
        ]
        read_only_fields = ["number", "status", "author", "created_at", "published_at"]
        create_only_fields = ["shot", "based_on", "media", "pipeline_spec"]

    def get_thumbnail_url(self, version) -> str | None:
        return _preview_urls("version-preview", version.pk, version.media_id is not None)["thumbnail_url"]

    def get_filmstrip_url(self, version) -> str | None:
        return _preview_urls("version-preview", version.pk, version.media_id is not None)["filmstrip_url"]

    def validate_pipeline_spec(self, value):
        """Empty (no pipeline recorded), or a spec the engine accepts (its front door's ``spec_validate``);
        stored as given."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        if value:
            from restoration.api import spec_validate  # the engine imports torch: load it when needed
            from restoration.errors import SpecError

            try:
                spec_validate(value)
            except SpecError as error:
                raise serializers.ValidationError(f"Invalid pipeline spec: {error}") from None
        return value
