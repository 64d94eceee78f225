from django.urls import path

from campaigns import engagement_views, occasions, views
from campaigns.preferences import FrequencyView

app_name = "campaigns"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("order/<str:token>/", views.OrderStatusView.as_view(), name="order-status"),
    path("preferences/frequency/", FrequencyView.as_view(), name="frequency"),
    path("account/occasions/", occasions.OccasionListView.as_view(), name="occasions"),
    path("account/occasions/<int:pk>/", occasions.OccasionEditView.as_view(), name="occasion-edit"),
    path("account/occasions/<int:pk>/delete/", occasions.OccasionDeleteView.as_view(), name="occasion-delete"),
    path("o/<str:token>.gif", engagement_views.OpenPixelView.as_view(), name="open"),
    path("c/<str:token>/", engagement_views.ClickView.as_view(), name="click"),
    path("webhooks/delivery-events/", views.DeliveryEventsWebhook.as_view(), name="delivery-events"),
]
