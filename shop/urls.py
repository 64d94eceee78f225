"""URLs: Oscar's shop and dashboard, Wagtail's pages at the root and admin at /cms/.

Oscar's own root pattern redirects ``/`` to ``OSCAR_HOMEPAGE``; we drop it so
that Wagtail serves the home page, and keep the name ``home`` for ``/``.
"""

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from wagtail import urls as wagtail_urls
from wagtail import views as wagtail_views
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from recommender.api.views import RecommendationsView
from recommender.deferred import slot_fragments
from shop.pages.fragments import page_fragments
from shop.reorder import OrderReorderView


def _oscar_patterns_without_home():
    patterns, app_name, namespace = apps.get_app_config("oscar").urls
    return [p for p in patterns if getattr(p, "name", None) != "home"]


urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("cms/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tracking/", include("tracking.urls")),
    path("dashboard/tracking/", include("tracking.dashboard.urls")),
    path("dashboard/customers/support-desk/", include("ecrm.dashboard.urls")),
    path("dashboard/recommender/", include("recommender.dashboard.urls")),
    path("dashboard/campaigns/", include("campaigns.dashboard.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("api/ecrm/", include("ecrm.api.urls")),
    path("api/recommendations/", RecommendationsView.as_view(), name="api-recommendations"),
    # The visitor's own slots and blocks on pages every anonymous visitor shares (never cached).
    path("recommendations/fragments/", slot_fragments, name="recommender-fragments"),
    path("pages/fragments/", page_fragments, name="page-fragments"),
    path("accounts/", include("ecrm.urls")),
    path("accounts/orders/<str:order_number>/reorder/", OrderReorderView.as_view(), name="order-reorder"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", wagtail_views.serve, {"path": ""}, name="home"),
    path("", include(_oscar_patterns_without_home())),
    path("", include(wagtail_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns = static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT) + urlpatterns
