"""Shared copies of storefront pages are purged from the CDN / reverse proxy when the page, a
promotion it chooses, or the products and stock it shows change (shop.pages.invalidation and
Wagtail's frontend cache), against a real HTTP server taking the PURGE requests."""

import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured
from oscar.test.factories import create_product

from shop import config
from shop.pages.models import ContentPage, HomePage, LandingPage, Promotion, PromotionVariant

pytestmark = pytest.mark.django_db


class PurgeRecorder(BaseHTTPRequestHandler):
    """A cache's purge endpoint: records each PURGE as ``host + path``."""

    def do_PURGE(self):  # noqa: N802 - the HTTP method's name
        self.server.purged.append(self.headers["Host"] + self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), PurgeRecorder)
    server.purged = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WAGTAILFRONTENDCACHE = {"default": {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
        "LOCATION": f"http://127.0.0.1:{server.server_address[1]}"}}
    yield server.purged
    server.shutdown()
    server.server_close()


@pytest.fixture
def pages(site_pages):
    """Home: blocks listing products by rules (the default home page) and a grid choosing the
    spoon; the Winter sale landing page: a grid choosing the skillet; Delivery: a promotion;
    FAQ and About: text only."""
    skillet = create_product(title="Skillet", upc="SKILLET", price=Decimal("30.00"), num_in_stock=5)
    spoon = create_product(title="Spoon", upc="SPOON", price=Decimal("3.00"), num_in_stock=5)
    promotion = Promotion.objects.create(name="Delivery", slug="free-delivery", heading="Free delivery")
    delivery, home = ContentPage.objects.get(slug="delivery"), HomePage.objects.get()
    home.body.append(("product_grid", {"heading": "Picks", "products": [spoon]}))
    home.save_revision().publish()
    home.add_child(instance=LandingPage(title="Winter sale", slug="winter-sale", body=[
        ("product_grid", {"heading": "Our pick", "products": [skillet]})])).save_revision().publish()
    delivery.body = [("promotion", {"promotion": promotion}), ("text", "<p>Two days.</p>")]
    delivery.save_revision().publish()
    return {"skillet": skillet, "spoon": spoon, "promotion": promotion}


HOME, SALE, DELIVERY, FAQ = "localhost/", "localhost/winter-sale/", "localhost/delivery/", "localhost/faq/"


def _purged(proxy, capture, change) -> set:
    proxy.clear()
    with capture(execute=True):
        change()
    return set(proxy)


def test_publishing_or_unpublishing_a_page_purges_it(pages, proxy):
    faq = ContentPage.objects.get(slug="faq")
    faq.save_revision().publish()
    assert proxy == [FAQ]
    faq.unpublish()
    assert proxy == [FAQ, FAQ]


def test_a_promotion_purges_the_pages_that_choose_it(pages, proxy, django_capture_on_commit_callbacks):
    from ecrm.models import Segment

    promotion = pages["promotion"]
    promotion.heading = "Free delivery over £40"
    assert _purged(proxy, django_capture_on_commit_callbacks, promotion.save) == {DELIVERY}
    segment = Segment.objects.create(name="Lapsed", kind=Segment.STATIC)
    assert _purged(proxy, django_capture_on_commit_callbacks, lambda: PromotionVariant.objects.create(
        promotion=promotion, segment=segment, heading="We miss you")) == {DELIVERY}
    other = Promotion.objects.create(name="Other", slug="other")
    assert _purged(proxy, django_capture_on_commit_callbacks, other.save) == set()  # on no page
    assert _purged(proxy, django_capture_on_commit_callbacks, promotion.delete) == {DELIVERY}


def test_products_and_stock_purge_the_pages_that_show_them(pages, proxy, django_capture_on_commit_callbacks):
    skillet, spoon = pages["skillet"], pages["spoon"]
    stock = skillet.stockrecords.get()

    def edit(product):
        product.title += " (new)"
        product.save()

    # The grid choosing it, and the home page's lists, where any product may show.
    assert _purged(proxy, django_capture_on_commit_callbacks, lambda: edit(skillet)) == {HOME, SALE}
    assert _purged(proxy, django_capture_on_commit_callbacks, lambda: edit(spoon)) == {HOME}
    # An order's allocation that leaves it in stock at the same price shows nowhere.
    assert _purged(proxy, django_capture_on_commit_callbacks, lambda: stock.allocate(2)) == set()
    # Selling out, a new price and coming back in stock do.
    assert _purged(proxy, django_capture_on_commit_callbacks, lambda: stock.allocate(3)) == {HOME, SALE}
    stock.refresh_from_db()
    stock.price = Decimal("25.00")
    assert _purged(proxy, django_capture_on_commit_callbacks, stock.save) == {HOME, SALE}
    stock.num_in_stock += 10
    assert _purged(proxy, django_capture_on_commit_callbacks, stock.save) == {HOME, SALE}
    # The changes of one transaction make one purge.
    proxy.clear()
    with django_capture_on_commit_callbacks(execute=True):
        edit(skillet)
        edit(spoon)
        stock.price = Decimal("20.00")
        stock.save()
    assert sorted(proxy) == sorted([HOME, SALE])
    assert _purged(proxy, django_capture_on_commit_callbacks, skillet.delete) == {HOME, SALE}


def test_a_category_purges_the_pages_listing_products_or_categories(pages, proxy,
                                                                     django_capture_on_commit_callbacks):
    from oscar.apps.catalogue.categories import create_from_breadcrumbs

    assert _purged(proxy, django_capture_on_commit_callbacks,
                   lambda: create_from_breadcrumbs("Garden > Tools")) == {HOME}


def test_nothing_is_looked_up_without_a_frontend_cache(pages, settings, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shop.pages.invalidation import purge_pending

    assert not hasattr(settings, "WAGTAILFRONTENDCACHE")
    stock = pages["skillet"].stockrecords.get()
    stock.price = Decimal("1.00")
    with django_capture_on_commit_callbacks() as callbacks:
        with CaptureQueriesContext(connection) as queries:
            stock.save()
        pages["promotion"].save()
        pages["spoon"].save()
    assert purge_pending not in callbacks
    assert not [q for q in queries if "wagtailcore" in q["sql"] or q["sql"].startswith('SELECT "partner_stockrecord"')]


@pytest.mark.parametrize("url", ["varnish:6081", "ftp://varnish/", "http://:6081", "http://varnish:port/"])
def test_a_malformed_purge_url_is_refused_with_its_name(url, monkeypatch):
    monkeypatch.setenv("FRONTEND_CACHE_PURGE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="FRONTEND_CACHE_PURGE_URL"):
        config.http_url("FRONTEND_CACHE_PURGE_URL")
    monkeypatch.setenv("FRONTEND_CACHE_PURGE_URL", "http://varnish:6081")
    assert config.http_url("FRONTEND_CACHE_PURGE_URL") == "http://varnish:6081"
