from django.urls import path

from recommender.dashboard import views

app_name = "recommender-dashboard"

urlpatterns = [
    path("", views.VersionListView.as_view(), name="versions"),
    path("retrain/", views.RetrainView.as_view(), name="retrain"),
    path("slots/", views.SlotReportView.as_view(), name="slots"),
    path("<int:pk>/serve/", views.RollBackView.as_view(), name="roll-back"),
]
