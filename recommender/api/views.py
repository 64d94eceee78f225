"""``GET /api/recommendations/?slot=…&product=…&category=…&k=…``: recommendations for whoever
asks (their account, or the tracking cookie's anonymous id, and their basket) — never for
someone else, so it needs no staff rights and shows no personal data beyond the asker's
own suggestions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from oscar.core.loading import get_model
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender.attribution import record_impressions
from recommender.serving import recommendations_for
from recommender.slots import PRODUCT_SLOTS, SLOTS
from recommender.templatetags.recommendations import person_of

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
MAX_K = 24


class BecauseSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="pk")
    title = serializers.CharField(source="get_title")
    url = serializers.CharField(source="get_absolute_url")


class RecommendationSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    title = serializers.CharField(source="product.get_title")
    url = serializers.CharField(source="product.get_absolute_url")
    source = serializers.CharField(help_text="the list it came from: for_you, discover, buy_again, fresh "
                                             "(personal, from factors recalculated on the fly), session, "
                                             "manual (the store's recommended products), pinned, "
                                             "bought_together, basket_together, similar, category, "
                                             "category_trending, trending, popular")
    token = serializers.CharField()
    because = BecauseSerializer(allow_null=True, help_text="the product the shopper viewed whose neighbours "
                                                           "brought this one (\"Because you viewed …\"), or null")


def _object_id(request, name: str, what: str) -> str | None:
    value = request.query_params.get(name)
    if value and not value.isdigit():
        raise ValidationError({name: f"a {what} id"})
    return value or None


class RecommendationsView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []  # the session and tracking cookie say who asks; no CSRF: GET only

    @extend_schema(parameters=[
        OpenApiParameter("slot", str, enum=list(SLOTS)),
        OpenApiParameter("product", int, description=f"the page's product; needed by {', '.join(PRODUCT_SLOTS)}"),
        OpenApiParameter("category", int, description="trending: trending in this category"),
        OpenApiParameter("k", int, description=f"1 to {MAX_K}, default 4")],
        responses=RecommendationSerializer(many=True))
    def get(self, request):
        slot = request.query_params.get("slot", "for_you")
        if slot not in SLOTS:
            raise ValidationError({"slot": f"unknown slot; one of {', '.join(SLOTS)}"})
        try:
            k = int(request.query_params.get("k", 4))
        except ValueError:
            raise ValidationError({"k": "a whole number"}) from None
        if not 1 <= k <= MAX_K:
            raise ValidationError({"k": f"from 1 to {MAX_K}"})
        product_id = _object_id(request, "product", "product")
        category_id = _object_id(request, "category", "category")
        if slot in PRODUCT_SLOTS and product_id is None:
            raise ValidationError({"product": f"the {slot} slot needs a product"})
        if category_id is not None and slot != "trending":
            raise ValidationError({"category": "only the trending slot takes a category"})
        product = get_object_or_404(Product, pk=product_id, is_public=True) if product_id else None
        category = get_object_or_404(Category, pk=category_id, is_public=True) if category_id else None
        django_request = request._request
        person = person_of(django_request)
        items = recommendations_for(slot=slot, person=person, product=product,
                                    basket=getattr(django_request, "basket", None), category=category, k=k)
        record_impressions(items, slot, person)
        return Response(RecommendationSerializer(items, many=True).data)
