"""A second baseline for the ingest benchmark: the bare JSON view answered at the same place
in the middleware stack as the tracking API (``TrackingApiMiddleware``), so that the cost of
the tracking code itself can be told apart from the storefront middleware it skips."""

import json

from django.http import JsonResponse

LEAN_PATH = "/__bench/lean-json/"


class LeanBareJsonMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != LEAN_PATH:
            return self.get_response(request)
        json.loads(request.body)
        return JsonResponse({"success": True})
