from django.urls import path

from campaigns import engagement_views, views
from campaigns.preferences import FrequencyView

app_name = "campaigns"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("order/<str:token>/", views.OrderStatusView.as_view(), name="order-status"),
    path("preferences/frequency/", FrequencyView.as_view(), name="frequency"),
    path("o/<str:token>.gif", engagement_views.OpenPixelView.as_view(), name="open"),
    path("c/<str:token>/", engagement_views.ClickView.as_view(), name="click"),
    path("webhooks/delivery-events/", views.DeliveryEventsWebhook.as_view(), name="delivery-events"),
]
