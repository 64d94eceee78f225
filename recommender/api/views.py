"""``GET /api/recommendations/?slot=…&product=…&k=…``: recommendations for whoever asks
(their account, or the tracking cookie's anonymous id) — never for someone else, so it
needs no staff rights and shows no personal data beyond the asker's own suggestions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from oscar.core.loading import get_model
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender.attribution import record_impressions
from recommender.serving import CHAINS, recommendations_for
from recommender.templatetags.recommendations import person_of

Product = get_model("catalogue", "Product")
MAX_K = 24


class BecauseSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="pk")
    title = serializers.CharField(source="get_title")
    url = serializers.CharField(source="get_absolute_url")


class RecommendationSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    title = serializers.CharField(source="product.get_title")
    url = serializers.CharField(source="product.get_absolute_url")
    source = serializers.CharField(help_text="the list it came from: for_you, discover, fresh (personal, from "
                                             "factors recalculated on the fly), session, bought_together, "
                                             "similar, category, popular")
    token = serializers.CharField()
    because = BecauseSerializer(allow_null=True, help_text="the product the shopper viewed whose neighbours "
                                                           "brought this one (\"Because you viewed …\"), or null")


class RecommendationsView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []  # the session and tracking cookie say who asks; no CSRF: GET only

    @extend_schema(parameters=[
        OpenApiParameter("slot", str, enum=list(CHAINS)), OpenApiParameter("product", int),
        OpenApiParameter("k", int, description=f"1 to {MAX_K}, default 4")],
        responses=RecommendationSerializer(many=True))
    def get(self, request):
        slot = request.query_params.get("slot", "for_you")
        if slot not in CHAINS:
            raise ValidationError({"slot": f"unknown slot; one of {', '.join(CHAINS)}"})
        try:
            k = int(request.query_params.get("k", 4))
        except ValueError:
            raise ValidationError({"k": "a whole number"}) from None
        if not 1 <= k <= MAX_K:
            raise ValidationError({"k": f"from 1 to {MAX_K}"})
        product = None
        if request.query_params.get("product"):
            if not request.query_params["product"].isdigit():
                raise ValidationError({"product": "a product id"})
            product = get_object_or_404(Product, pk=request.query_params["product"], is_public=True)
        elif slot in ("bought_together", "similar"):
            raise ValidationError({"product": f"the {slot} slot needs a product"})
        django_request = request._request
        person = person_of(django_request)
        items = recommendations_for(slot=slot, person=person, product=product,
                                    basket=getattr(django_request, "basket", None), k=k)
        record_impressions(items, slot, person)
        return Response(RecommendationSerializer(items, many=True).data)
