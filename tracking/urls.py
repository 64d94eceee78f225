from django.urls import path

from tracking.api.views import ingest

app_name = "tracking"

CALLS = ["batch", "track", "identify", "page", "screen", "group", "alias"]

urlpatterns = [
    path(f"v1/{call}", ingest, {"call_type": call}, name=f"v1-{call}") for call in CALLS
]
