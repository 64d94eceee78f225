from django.urls import path

from recommender.dashboard import experiment_views, merchandising, views

app_name = "recommender-dashboard"

urlpatterns = [
    path("", views.VersionListView.as_view(), name="versions"),
    path("retrain/", views.RetrainView.as_view(), name="retrain"),
    path("slots/", views.SlotReportView.as_view(), name="slots"),
    path("<int:pk>/serve/", views.RollBackView.as_view(), name="roll-back"),
    path("experiments/", experiment_views.ExperimentListView.as_view(), name="experiments"),
    path("experiments/candidate/", experiment_views.CandidateView.as_view(), name="candidate"),
    path("experiments/start/", experiment_views.ExperimentStartView.as_view(), name="experiment-start"),
    path("experiments/<int:pk>/", experiment_views.ExperimentResultsView.as_view(), name="experiment"),
    path("experiments/<int:pk>/stop/", experiment_views.ExperimentStopView.as_view(), name="experiment-stop"),
    path("merchandising/", merchandising.RuleListView.as_view(), name="rules"),
    path("merchandising/new/", merchandising.RuleCreateView.as_view(), name="rule-create"),
    path("merchandising/<int:pk>/", merchandising.RuleUpdateView.as_view(), name="rule-update"),
    path("merchandising/<int:pk>/delete/", merchandising.RuleDeleteView.as_view(), name="rule-delete"),
    path("repeat-purchase/", merchandising.RepurchasePolicyView.as_view(), name="repurchase"),
]
