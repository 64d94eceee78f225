from django.urls import path

from ecrm.dashboard import views

app_name = "ecrm-dashboard"

urlpatterns = [
    path("", views.CustomerSearchView.as_view(), name="customer-search"),
    path("<int:pk>/", views.CustomerCardView.as_view(), name="customer"),
]
