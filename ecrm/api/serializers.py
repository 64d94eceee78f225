"""The 360° profile and its parts as JSON: one serializer for the API and ``ecrm_profile``."""

from __future__ import annotations

from rest_framework import serializers

from ecrm.consents import consents_in_force
from ecrm.models import Consent, Profile, Segment


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["id", "channel", "topic", "granted", "recorded_at", "source", "evidence"]
        read_only_fields = ["id", "recorded_at", "source", "evidence"]


class ConsentInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Consent.CHANNELS)
    topic = serializers.SlugField(max_length=50, default=Consent.ALL_TOPICS)
    granted = serializers.BooleanField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ProfileSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = ["id", "person_key", "email", "first_name", "last_name", "phone", "order_count", "revenue",
                  "last_seen_at"]


class ProfileSerializer(serializers.ModelSerializer):
    """Everything the card's header shows: contact, computed attributes, tags, segments,
    consents in force."""

    tags = serializers.SerializerMethodField()
    segments = serializers.SerializerMethodField()
    consents = serializers.SerializerMethodField()
    registered = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = ["id", "person_key", "registered", "email", "phone", "first_name", "last_name", "traits",
                  *Profile.COMPUTED, "tags", "segments", "consents", "refreshed_at"]

    def get_tags(self, profile) -> list[str]:
        return sorted(profile.tags.names())

    def get_segments(self, profile) -> list[dict]:
        return [{"id": m.segment_id, "name": m.segment.name, "joined_at": m.joined_at.isoformat()}
                for m in profile.memberships.filter(left_at=None).select_related("segment")]

    def get_consents(self, profile) -> list[dict]:
        return ConsentSerializer(sorted(consents_in_force(profile).values(),
                                        key=lambda c: (c.channel, c.topic)), many=True).data

    def get_registered(self, profile) -> bool:
        return profile.user_id is not None


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    event_id = serializers.IntegerField(allow_null=True)


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "description", "kind", "rules", "member_count", "computed_at", "updated_at"]


class MemberSerializer(serializers.Serializer):
    profile = ProfileSummarySerializer()
    joined_at = serializers.DateTimeField()
