from django.urls import path

from ecrm.dashboard import views

app_name = "ecrm-dashboard"

urlpatterns = [
    path("", views.CustomerSearchView.as_view(), name="customer-search"),
    path("<int:pk>/", views.CustomerCardView.as_view(), name="customer"),
    path("<int:pk>/notes/", views.NoteCreateView.as_view(), name="customer-note"),
    path("<int:pk>/tags/", views.TagsUpdateView.as_view(), name="customer-tags"),
    path("<int:pk>/consents/", views.ConsentCreateView.as_view(), name="customer-consent"),
]
