from django.urls import path

from campaigns.dashboard import broadcast_views, design_views, flow_views, results_views, sent_mail_views, views

app_name = "campaigns-dashboard"

urlpatterns = [
    path("outbox/", views.OutboxView.as_view(), name="outbox"),
    path("dead-letters/", views.OutboxView.as_view(dead_letters=True), name="dead-letters"),
    path("outbox/<int:pk>/", views.MessageDetailView.as_view(), name="message"),
    path("outbox/<int:pk>/retry/", views.MessageRetryView.as_view(), name="message-retry"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppressions"),
    path("suppressions/<int:pk>/lift/", views.SuppressionLiftView.as_view(), name="suppression-lift"),
    path("flows/", flow_views.FlowListView.as_view(), name="flows"),
    path("flows/new/", flow_views.FlowCreateView.as_view(), name="flow-create"),
    path("flows/<int:pk>/", flow_views.FlowDetailView.as_view(), name="flow"),
    path("flows/<int:pk>/activate/", flow_views.FlowStatusView.as_view(action="activate"), name="flow-activate"),
    path("flows/<int:pk>/pause/", flow_views.FlowStatusView.as_view(action="pause"), name="flow-pause"),
    path("flows/<int:pk>/delete/", flow_views.FlowDeleteView.as_view(), name="flow-delete"),
    path("flows/<int:pk>/enrolments/", flow_views.EnrolmentListView.as_view(), name="flow-enrolments"),
    path("flows/<int:pk>/steps/new/", flow_views.StepEditView.as_view(), name="flow-step-create"),
    path("flows/<int:pk>/steps/<int:step_pk>/", flow_views.StepEditView.as_view(), name="flow-step"),
    path("flows/<int:pk>/steps/<int:step_pk>/delete/", flow_views.StepActionView.as_view(action="delete"),
         name="flow-step-delete"),
    path("flows/<int:pk>/steps/<int:step_pk>/up/", flow_views.StepActionView.as_view(action="up"), name="flow-step-up"),
    path("flows/<int:pk>/steps/<int:step_pk>/down/", flow_views.StepActionView.as_view(action="down"),
         name="flow-step-down"),
    path("designs/", design_views.DesignListView.as_view(), name="designs"),
    path("designs/<int:pk>/preview/", design_views.DesignPreviewView.as_view(), name="design-preview"),
    path("designs/<int:pk>/test/", design_views.DesignTestSendView.as_view(), name="design-test"),
    path("sent-mail/", sent_mail_views.SentMailListView.as_view(), name="sent-mail"),
    path("sent-mail/<str:name>/", sent_mail_views.SentMailDetailView.as_view(), name="sent-mail-message"),
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
