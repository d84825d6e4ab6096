"""Shape of deliverables in the API, and the body that starts a delivery."""

from __future__ import annotations

from rest_framework import serializers

from restoration.api import DELIVERY_CODECS, MASTER_CODECS
from webapp.api.serializers import StrictModelSerializer
from webapp.delivery.models import Deliverable
from webapp.delivery.plan import FALLBACKS
from webapp.delivery.services import EXPORT_KINDS


class DeliverableShotSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    picture = serializers.CharField(help_text="approved, latest (a fallback) or scan (a fallback)")
    version = serializers.IntegerField(allow_null=True)
    start_frame = serializers.IntegerField(help_text="First frame of the shot in the deliverable")
    end_frame = serializers.IntegerField()
    grade = serializers.CharField(allow_null=True, help_text="The grade applied (its .ccc id)")
    crf = serializers.FloatField(required=False, help_text="Distribution: the CRF the shot was encoded at")
    quality = serializers.FloatField(required=False, help_text="Distribution: the shot's measured quality")
    capped = serializers.BooleanField(
        required=False, help_text="Distribution: encoded at the codec's highest CRF and still above the target")


class DeliverableSerializer(StrictModelSerializer):
    file_name = serializers.CharField(source="asset.original_name", read_only=True)
    size_bytes = serializers.IntegerField(source="asset.size_bytes", read_only=True)
    container = serializers.CharField(source="asset.container", read_only=True)
    fps = serializers.FloatField(source="asset.fps", read_only=True, allow_null=True)
    frame_count = serializers.IntegerField(source="asset.frame_count", read_only=True, allow_null=True)
    duration = serializers.FloatField(source="asset.duration", read_only=True, allow_null=True)
    width = serializers.IntegerField(source="asset.width", read_only=True, allow_null=True)
    height = serializers.IntegerField(source="asset.height", read_only=True, allow_null=True)
    pix_fmt = serializers.CharField(source="asset.pix_fmt", read_only=True)
    shots = DeliverableShotSerializer(many=True, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Deliverable
        fields = [
            "id", "film", "job", "kind", "codec", "sound", "reel", "file_name", "size_bytes", "container", "fps",
            "frame_count", "duration", "width", "height", "pix_fmt", "shots", "encoding", "md5", "sha256", "status",
            "verified_at", "verify_message", "created_at", "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return f"/api/deliverables/{obj.pk}/download/"


class ReelSerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=1)
    last = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        if attrs["first"] > attrs["last"]:
            raise serializers.ValidationError("The reel's first shot comes after its last.")
        return attrs


class _NoUnknownFields(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class DistributionSerializer(_NoUnknownFields):
    codec = serializers.ChoiceField(choices=list(DELIVERY_CODECS))
    target = serializers.CharField(max_length=40, help_text='"ssim:0.97", "psnr:40" or "xpsnr:38"')
    preset = serializers.CharField(max_length=20, required=False, help_text="The encoder's speed preset (medium)")


class DeliverCreateSerializer(_NoUnknownFields):
    """What to deliver: masters and exports, the whole film or a reel, the fallback for shots
    without an approved version, with the scan's sound or picture only. An empty body delivers
    the whole film's FFV1 master with sound."""

    masters = serializers.ListField(child=serializers.ChoiceField(choices=list(MASTER_CODECS)), default=["ffv1"],
                                    max_length=len(MASTER_CODECS))
    exports = serializers.ListField(child=serializers.ChoiceField(choices=list(EXPORT_KINDS)), default=list,
                                    max_length=len(EXPORT_KINDS))
    reel = ReelSerializer(required=False, allow_null=True, default=None)
    fallback = serializers.ChoiceField(choices=list(FALLBACKS), required=False, allow_null=True, default=None)
    sound = serializers.BooleanField(default=True, help_text="false: picture only (needed for retimed pictures)")
    distribution = DistributionSerializer(required=False, allow_null=True, default=None,
                                          help_text="A distribution encode with per-shot adaptive CRF")
