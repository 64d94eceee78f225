from django.urls import path

from campaigns.dashboard import design_views, sent_mail_views, views

app_name = "campaigns-dashboard"

urlpatterns = [
    path("outbox/", views.OutboxView.as_view(), name="outbox"),
    path("dead-letters/", views.OutboxView.as_view(dead_letters=True), name="dead-letters"),
    path("outbox/<int:pk>/", views.MessageDetailView.as_view(), name="message"),
    path("outbox/<int:pk>/retry/", views.MessageRetryView.as_view(), name="message-retry"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppressions"),
    path("suppressions/<int:pk>/lift/", views.SuppressionLiftView.as_view(), name="suppression-lift"),
    path("designs/", design_views.DesignListView.as_view(), name="designs"),
    path("designs/<int:pk>/preview/", design_views.DesignPreviewView.as_view(), name="design-preview"),
    path("designs/<int:pk>/test/", design_views.DesignTestSendView.as_view(), name="design-test"),
    path("sent-mail/", sent_mail_views.SentMailListView.as_view(), name="sent-mail"),
    path("sent-mail/<str:name>/", sent_mail_views.SentMailDetailView.as_view(), name="sent-mail-message"),
]
