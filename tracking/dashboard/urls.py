from django.urls import path

from tracking.dashboard import views

app_name = "tracking-dashboard"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("write-keys/", views.WriteKeyListView.as_view(), name="write-keys"),
    path("write-keys/new/", views.WriteKeyCreateView.as_view(), name="write-key-create"),
    path("write-keys/<int:pk>/revoke/", views.WriteKeyRevokeView.as_view(), name="write-key-revoke"),
    path("events/", views.EventListView.as_view(), name="events"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="event"),
    path("quarantine/", views.QuarantineListView.as_view(), name="quarantine"),
    path("quarantine/<int:pk>/", views.QuarantineDetailView.as_view(), name="quarantine-entry"),
    path("quarantine/replay/", views.QuarantineReplayView.as_view(), name="quarantine-replay"),
]
