"""The eCRM REST API for staff: customers (search, 360° detail, timeline, consents) and
segments (list, members). Token or session authentication; each view asks for the same
permission as its dashboard screen, so the roles hold here too."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrm.api.serializers import (
    ConsentInputSerializer, ConsentSerializer, MemberSerializer, ProfileSerializer, ProfileSummarySerializer,
    SegmentSerializer, TimelineEntrySerializer,
)
from ecrm.consents import consent_record
from ecrm.desk import access_record, bulk_access_record
from ecrm.models import Profile, ProfileAccess, Segment, SegmentMembership
from ecrm.selectors import customer_search
from ecrm.timeline import customer_timeline


class StaffWith(permissions.BasePermission):
    """Staff holding the view's ``required`` permission (per HTTP method where given)."""

    message = "Your account does not have the permission this needs."

    def has_permission(self, request, view):
        user = request.user
        needed = view.required.get(request.method, view.required.get("*"))
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(needed))


class _Staff:
    permission_classes = [StaffWith]
    required = {"*": "ecrm.view_profile"}


class CustomerSearch(_Staff, generics.ListAPIView):
    serializer_class = ProfileSummarySerializer
    pagination_class = None

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True,
                                                description="e-mail (whole or part), phone, name, order number or anonymous id")])
    def get(self, request, *args, **kwargs):
        query = request.query_params.get("q", "").strip()
        if len(query) < 2:
            raise ValidationError({"q": "Give at least two characters to search for."})
        return Response(self.get_serializer(customer_search(query), many=True).data)


def _profile(request, pk) -> Profile:
    profile = get_object_or_404(Profile, pk=pk)
    access_record(profile=profile, staff=request.user, action=ProfileAccess.VIEW, detail=f"api {request.path}"[:200])
    return profile


class CustomerDetail(_Staff, APIView):
    @extend_schema(responses=ProfileSerializer)
    def get(self, request, pk):
        return Response(ProfileSerializer(_profile(request, pk)).data)


class CustomerTimeline(_Staff, APIView):
    @extend_schema(responses=TimelineEntrySerializer(many=True))
    def get(self, request, pk):
        return Response(TimelineEntrySerializer(customer_timeline(_profile(request, pk)), many=True).data)


class CustomerConsents(_Staff, APIView):
    required = {"GET": "ecrm.view_consent", "POST": "ecrm.add_consent"}

    @extend_schema(responses=ConsentSerializer(many=True))
    def get(self, request, pk):
        return Response(ConsentSerializer(_profile(request, pk).consents.all(), many=True).data)

    @extend_schema(request=ConsentInputSerializer, responses={201: ConsentSerializer})
    def post(self, request, pk):
        profile = get_object_or_404(Profile, pk=pk)
        data = ConsentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        consent = consent_record(profile=profile, channel=values["channel"], topic=values["topic"],
                                 granted=values["granted"], source="api",
                                 evidence={"staff": request.user.get_username(), "reason": values.get("reason", "")})
        access_record(profile=profile, staff=request.user, action=ProfileAccess.CONSENT,
                      detail=f"api: {'gave' if values['granted'] else 'withdrew'} {values['channel']}/{values['topic']}")
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class SegmentList(_Staff, generics.ListAPIView):
    required = {"*": "ecrm.view_segment"}
    serializer_class = SegmentSerializer
    queryset = Segment.objects.all()


class SegmentMembers(_Staff, generics.ListAPIView):
    """Current members: personal data in bulk, so only for those who may export segments."""

    required = {"*": "ecrm.export_segment"}
    serializer_class = MemberSerializer

    def get_queryset(self):
        self.segment = get_object_or_404(Segment, pk=self.kwargs["pk"])
        return SegmentMembership.objects.filter(segment=self.segment, left_at=None).select_related(
            "profile").order_by("joined_at", "pk")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        bulk_access_record(profiles=[m.profile for m in page or []], staff=self.request.user,
                           action=ProfileAccess.VIEW, detail=f"api: segment {self.segment.name} members")
        return page
