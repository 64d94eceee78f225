from django.urls import path

from campaigns.dashboard import broadcast_views, results_views, views

app_name = "campaigns-dashboard"

urlpatterns = [
    path("outbox/", views.OutboxView.as_view(), name="outbox"),
    path("dead-letters/", views.OutboxView.as_view(dead_letters=True), name="dead-letters"),
    path("outbox/<int:pk>/", views.MessageDetailView.as_view(), name="message"),
    path("outbox/<int:pk>/retry/", views.MessageRetryView.as_view(), name="message-retry"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppressions"),
    path("suppressions/<int:pk>/lift/", views.SuppressionLiftView.as_view(), name="suppression-lift"),
    path("broadcasts/", broadcast_views.BroadcastListView.as_view(), name="broadcasts"),
    path("broadcasts/new/", broadcast_views.BroadcastCreateView.as_view(), name="broadcast-create"),
    path("broadcasts/audience/", broadcast_views.AudienceCountView.as_view(), name="broadcast-audience"),
    path("broadcasts/<int:pk>/", broadcast_views.BroadcastDetailView.as_view(), name="broadcast"),
    path("broadcasts/<int:pk>/edit/", broadcast_views.BroadcastUpdateView.as_view(), name="broadcast-edit"),
    path("broadcasts/<int:pk>/schedule/", broadcast_views.BroadcastScheduleView.as_view(), name="broadcast-schedule"),
    path("broadcasts/<int:pk>/cancel/", broadcast_views.BroadcastCancelView.as_view(), name="broadcast-cancel"),
    path("broadcasts/<int:pk>/progress/", broadcast_views.BroadcastProgressView.as_view(), name="broadcast-progress"),
    path("results/", results_views.ResultsListView.as_view(), name="results-list"),
    path("results/<str:campaign>/", results_views.ResultsView.as_view(), name="results"),
]
