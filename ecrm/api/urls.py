from django.urls import path

from ecrm.api import views

app_name = "ecrm-api"

urlpatterns = [
    path("customers/", views.CustomerSearch.as_view(), name="customer-search"),
    path("customers/<int:pk>/", views.CustomerDetail.as_view(), name="customer"),
    path("customers/<int:pk>/timeline/", views.CustomerTimeline.as_view(), name="customer-timeline"),
    path("customers/<int:pk>/consents/", views.CustomerConsents.as_view(), name="customer-consents"),
    path("segments/", views.SegmentList.as_view(), name="segments"),
    path("segments/<int:pk>/members/", views.SegmentMembers.as_view(), name="segment-members"),
]
