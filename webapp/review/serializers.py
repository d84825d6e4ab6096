"""Shapes of comments and decisions in the API. Writes go through services.py."""

from __future__ import annotations

from rest_framework import serializers

from webapp.api.serializers import StrictModelSerializer, VisibleRelatedField
from webapp.catalogue.access import guest_invite_of, person_label
from webapp.catalogue.models import Film, ShotVersion
from webapp.catalogue.selectors import film_list, version_list
from webapp.review.models import ApprovalPolicy, ApprovalPolicyChange, Comment, CommentRevision, Decision
from webapp.review.policy import approval_requirement
from webapp.review.selectors import comment_list, comment_version_list


class CommentSerializer(StrictModelSerializer):
    film = serializers.IntegerField(source="version.shot.film_id", read_only=True)
    version = VisibleRelatedField(model=ShotVersion, selector=comment_version_list)
    reply_to = VisibleRelatedField(model=Comment, selector=comment_list, required=False, allow_null=True)
    author_username = serializers.CharField(source="author.username", read_only=True)
    author_name = serializers.SerializerMethodField(
        help_text="How the author is shown: the username, or a guest's name marked \"(guest)\""
    )
    author_is_guest = serializers.SerializerMethodField(
        help_text="Written by a guest of a live session (no member of the film)"
    )
    drawing = serializers.JSONField(
        required=False, allow_null=True, help_text="Vector shapes over the frame (see docs/API.md, Drawings)"
    )

    class Meta:
        model = Comment
        fields = [
            "id", "film", "version", "frame", "frame_end", "text", "drawing", "author", "author_username",
            "author_name", "author_is_guest", "reply_to", "resolved", "created_at", "updated_at",
        ]
        read_only_fields = ["author", "created_at", "updated_at"]
        create_only_fields = ["version", "frame", "frame_end", "drawing", "reply_to"]
        extra_kwargs = {
            "frame": {"help_text": "Frame number counted from the shot's first frame (0-based)"},
            "frame_end": {"help_text": "Last frame of a range, inclusive"},
        }

    def get_author_name(self, comment: Comment) -> str:
        return person_label(comment.author)

    def get_author_is_guest(self, comment: Comment) -> bool:
        return guest_invite_of(comment.author) is not None



class CommentRevisionSerializer(serializers.ModelSerializer):
    editor_name = serializers.SerializerMethodField(help_text="How the editor is shown (as author_name)")

    class Meta:
        model = CommentRevision
        fields = ["id", "comment", "previous_text", "editor", "editor_name", "edited_at"]
        read_only_fields = fields

    def get_editor_name(self, revision: CommentRevision) -> str:
        return person_label(revision.editor)

class DecisionSerializer(StrictModelSerializer):
    film = serializers.IntegerField(source="version.shot.film_id", read_only=True)
    version = VisibleRelatedField(model=ShotVersion, selector=version_list)
    reviewer_username = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "film", "version", "verdict", "note", "frame", "drawing", "reviewer", "reviewer_username",
                  "role", "required_roles", "required_members", "outcome", "created_at"]
        read_only_fields = ["reviewer", "role", "required_roles", "required_members", "outcome", "created_at"]


class ChangesCarriedSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version before this one")
    number = serializers.IntegerField()
    requests = DecisionSerializer(many=True, help_text="Its reviewers' standing change requests")


class DecisionSummarySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    required_roles = serializers.ListField(child=serializers.CharField())
    unfilled_roles = serializers.ListField(
        child=serializers.CharField(), help_text="Required roles nobody holds on the film: no version passes meanwhile"
    )
    current = DecisionSerializer(many=True, help_text="Each reviewer's latest decision")
    my_role = serializers.CharField(allow_null=True)
    can_decide = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, help_text="Why you cannot decide now (empty when you can)")
    can_reopen = serializers.BooleanField(help_text="You may reopen this approved or rejected version (with a reason)")
    changes_requested_on = ChangesCarriedSerializer(
        allow_null=True, help_text="The changes requested on the previous version, which this one answers")


class ApprovalPolicySerializer(StrictModelSerializer):
    film = VisibleRelatedField(model=Film, selector=film_list)
    required_roles = serializers.SerializerMethodField(help_text="The roles whose approval a version needs")
    unfilled_roles = serializers.SerializerMethodField(
        help_text="Required roles nobody holds on the film: no version passes until one is invited or the policy changes"
    )

    class Meta:
        model = ApprovalPolicy
        fields = ["id", "film", "archivist_required", "creator_required", "required_roles", "unfilled_roles"]
        create_only_fields = ["film"]

    def get_required_roles(self, policy: ApprovalPolicy) -> list[str]:
        return sorted(policy.required_roles)

    def get_unfilled_roles(self, policy: ApprovalPolicy) -> list[str]:
        return sorted(approval_requirement(film_id=policy.film_id).unfilled_roles)


class ApprovalPolicyChangeSerializer(serializers.ModelSerializer):
    changed_by_username = serializers.CharField(source="changed_by.username", read_only=True, default=None)

    class Meta:
        model = ApprovalPolicyChange
        fields = ["id", "film", "changed_by", "changed_by_username", "archivist_required", "creator_required",
                  "required_members", "decided", "created_at"]
        read_only_fields = fields
