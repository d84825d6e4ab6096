"""Shapes of live sessions and guest invitations in the API. Writes go through services.py."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from webapp.api.serializers import StrictSerializer, VisibleRelatedField
from webapp.catalogue.models import Film, ShotVersion
from webapp.catalogue.selectors import film_list, version_list
from webapp.live.models import GuestInvite, ReviewSession
from webapp.live.selectors import invite_refusal
from webapp.live.services import MAX_INVITE_HOURS, MAX_PLAYLIST_LENGTH


class ReviewSessionSerializer(serializers.ModelSerializer):
    created_by_username = serializers.CharField(source="created_by.username", read_only=True)
    host_username = serializers.CharField(source="host.username", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    playlist = serializers.SerializerMethodField(help_text="Version ids in playing order")
    url = serializers.SerializerMethodField(help_text="The session page (members join here)")

    class Meta:
        model = ReviewSession
        fields = ["id", "film", "title", "created_by", "created_by_username", "host", "host_username",
                  "created_at", "ended_at", "active", "playlist", "url"]
        read_only_fields = fields

    def get_playlist(self, session) -> list[int]:
        return [item.version_id for item in sorted(session.items.all(), key=lambda item: item.position)]

    def get_url(self, session) -> str:
        return reverse("review-session", args=[session.pk])


class ReviewSessionCreateSerializer(StrictSerializer):
    film = VisibleRelatedField(model=Film, selector=film_list)
    title = serializers.CharField(max_length=200)
    versions = serializers.ListField(
        child=VisibleRelatedField(model=ShotVersion, selector=version_list), allow_empty=False,
        max_length=MAX_PLAYLIST_LENGTH, help_text="Shot version ids of the film, in playing order",
    )

    def validate(self, data):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return data


class GuestInviteSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()

    class Meta:
        model = GuestInvite
        fields = ["id", "session", "display_name", "role", "created_at", "expires_at", "revoked_at", "active"]
        read_only_fields = fields

    def get_active(self, invite) -> bool:
        return invite_refusal(invite=invite) is None


class GuestInviteCreateSerializer(StrictSerializer):
    display_name = serializers.CharField(max_length=100)
    expires_in_hours = serializers.IntegerField(min_value=1, max_value=MAX_INVITE_HOURS, default=24)

    def validate(self, data):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return data


class GuestInviteCreatedSerializer(GuestInviteSerializer):
    """The invitation as created: the only time its link (with the secret token) is shown."""

    join_url = serializers.CharField(read_only=True, help_text="Send this link to the guest; it is not shown again")

    class Meta(GuestInviteSerializer.Meta):
        fields = [*GuestInviteSerializer.Meta.fields, "join_url"]
        read_only_fields = fields
