"""The store's URLs plus a baseline page: the same middleware and base template, no content."""

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from oscar.core.loading import get_class

from shop.urls import urlpatterns as shop_urlpatterns

@csrf_exempt
def bare_json(request):
    """The ingest baseline: parse a JSON body and answer, nothing else."""
    json.loads(request.body)
    return JsonResponse({"success": True})




class ProductWithoutSlots(get_class("catalogue.views", "ProductDetailView")):
    """Oscar's product page with the shop's template minus its recommendation slots."""

    template_name = "bench/product_without_slots.html"
    enforce_paths = False


urlpatterns = [
    path("__bench/product-without-slots/<int:pk>/", ProductWithoutSlots.as_view()),
    path("__bench/json/", bare_json),
    path("__bench/baseline/", TemplateView.as_view(template_name="bench/baseline.html")),
    *shop_urlpatterns,
]
