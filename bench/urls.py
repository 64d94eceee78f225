"""The store's URLs plus a baseline page: the same middleware and base template, no content."""

from django.urls import path
from django.views.generic import TemplateView

from shop.urls import urlpatterns as shop_urlpatterns

urlpatterns = [
    path("__bench/baseline/", TemplateView.as_view(template_name="bench/baseline.html")),
    *shop_urlpatterns,
]
