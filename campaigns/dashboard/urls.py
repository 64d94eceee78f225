from django.urls import path

from campaigns.dashboard import views

app_name = "campaigns-dashboard"

urlpatterns = [
    path("outbox/", views.OutboxView.as_view(), name="outbox"),
    path("dead-letters/", views.OutboxView.as_view(dead_letters=True), name="dead-letters"),
    path("outbox/<int:pk>/", views.MessageDetailView.as_view(), name="message"),
    path("outbox/<int:pk>/retry/", views.MessageRetryView.as_view(), name="message-retry"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppressions"),
    path("suppressions/<int:pk>/lift/", views.SuppressionLiftView.as_view(), name="suppression-lift"),
]
