"""The store's URLs plus a baseline page: the same middleware and base template, no content."""

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from shop.urls import urlpatterns as shop_urlpatterns

@csrf_exempt
def bare_json(request):
    """The ingest baseline: parse a JSON body and answer, nothing else."""
    json.loads(request.body)
    return JsonResponse({"success": True})


urlpatterns = [
    path("__bench/json/", bare_json),
    path("__bench/baseline/", TemplateView.as_view(template_name="bench/baseline.html")),
    *shop_urlpatterns,
]
