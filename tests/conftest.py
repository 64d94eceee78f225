"""Fixtures shared by the whole suite.

The test database comes from ``DATABASE_URL`` (PostgreSQL under ``make test``)
and Redis from ``REDIS_URL``; ``scripts/test_services.py`` provides both.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.helpers import celery_worker_start, processes_stop

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def recommender_keys_removed():
    """The run's own recommender keys (tests.settings) are deleted when the run ends."""
    yield
    from recommender.publish import client

    stale = list(client().scan_iter(match=f"{os.environ['RECOMMENDER_TEST_REDIS_PREFIX']}:*", count=1000))
    for start in range(0, len(stale), 1000):
        client().delete(*stale[start:start + 1000])


@pytest.fixture
def site_pages(db):
    """The Wagtail home and content pages and the role groups, as ``migrate`` leaves them.

    Transactional tests flush the database afterwards, so tests that need
    this data ask for it rather than trusting that migrations left it there.
    """
    from shop.pages.setup import ensure_site_pages
    from shop.roles import sync_role_groups

    ensure_site_pages()
    sync_role_groups()


@pytest.fixture
def countries(db):
    from oscar.core.loading import get_model

    Country = get_model("address", "Country")
    Country.objects.update_or_create(
        iso_3166_1_a2="GB",
        defaults={
            "iso_3166_1_a3": "GBR", "iso_3166_1_numeric": "826", "printable_name": "United Kingdom",
            "name": "United Kingdom of Great Britain and Northern Ireland",
            "is_shipping_country": True,
        },
    )


@pytest.fixture
def product_in_stock(db):
    """A public product with a price and stock, in a category."""
    from decimal import Decimal

    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    ProductCategory = get_model("catalogue", "ProductCategory")
    product = create_product(
        title="Cast Iron Skillet 26cm", upc="TEST-SKILLET-26", price=Decimal("34.99"),
        num_in_stock=25, product_class="Cookware",
    )
    product.description = "Pre-seasoned cast iron skillet for hob, oven and campfire."
    product.save()
    category = create_from_breadcrumbs("Kitchen > Cookware")
    ProductCategory.objects.create(product=product, category=category)
    return product


@pytest.fixture
def make_staff(db, site_pages):
    """Create a staff user in a role group (or a superuser) with a known password."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    def make(email: str, *, group: str | None = None, superuser: bool = False, password="pw-12345!"):
        User = get_user_model()
        user = User.objects.create_user(
            username=email, email=email, password=password,
            is_staff=True, is_superuser=superuser,
        )
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture(autouse=True)
def empty_search_index():
    """Each test starts with an empty product search index.

    The index lives on disk, outside the database transaction a test rolls
    back, so products indexed by one test would otherwise show in the next.
    """
    from haystack import connections

    connections["default"].get_backend().clear()
    yield


@pytest.fixture
def stream_name():
    """A private stream (and group) per test, so tests never see each other's events."""
    name = f"test-tracking-{uuid.uuid4().hex[:10]}"
    with override_settings(TRACKING_STREAM=name, TRACKING_CONSUMER_GROUP=f"{name}-group"):
        yield name
    from tracking.stream import client, shard_streams

    client().delete(*shard_streams(name))


@pytest.fixture
def worker(transactional_db):
    """A real Celery worker on a private queue, reading the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    process = celery_worker_start(queue)
    yield queue
    processes_stop([process])


# --- A small Oscar shop with history, trained on by the recommender, storefront, e-mail ---
# --- design and browser tests; with ``isolated`` for a private Redis prefix and models ---

SHOP_NOW = timezone.now()


@pytest.fixture
def isolated(settings, tmp_path):
    """A private Redis prefix and model directory, an empty per-process catalogue, and the
    prefix's keys deleted afterwards (shop tests: use ``pytest.mark.usefixtures("isolated")``)."""
    settings.RECOMMENDER_REDIS_PREFIX = f"test-reco-{uuid.uuid4().hex[:8]}"
    settings.RECOMMENDER_MODEL_DIR = str(tmp_path / "models")
    settings.RECOMMENDER_TRAINING = {"time_budget_seconds": 5}
    from recommender.catalogue import catalogue
    from recommender.rules import rules

    catalogue.clear()  # the per-process catalogue and rules must not carry over between tests
    rules.clear()
    yield
    from recommender.publish import client

    stale = list(client().scan_iter(match=f"{settings.RECOMMENDER_REDIS_PREFIX}:*"))
    if stale:
        client().delete(*stale)


@pytest.fixture
def shop(countries, isolated):
    """Tea drinkers who rebuy tea (a class that can be bought again) and browse cups (bought
    once); a sold-out product; a hidden one. Always ``isolated``: whatever a test trains and
    publishes on it (versions, an experiment left running) must not reach another test."""
    from django.contrib.auth import get_user_model
    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    from recommender.models import RepurchasePolicy
    from tests.helpers import place_order
    from tracking.models import Event, IdentityLink

    ProductCategory = get_model("catalogue", "ProductCategory")
    tea_category, cups_category = create_from_breadcrumbs("Kitchen > Tea"), create_from_breadcrumbs("Kitchen > Cups")
    products = {}
    for name, category, stock in (("tea", tea_category, 50), ("green-tea", tea_category, 50), ("cup", cups_category, 50),
                                  ("mug", cups_category, 50), ("teapot", cups_category, 0), ("saucer", cups_category, 50)):
        products[name] = create_product(title=name, upc=name.upper(), price=Decimal("5.00"), num_in_stock=stock,
                                        product_class="Tea" if "tea" in name.split("-") else "Homeware")
        ProductCategory.objects.create(product=products[name], category=category)
    RepurchasePolicy.objects.create(product_class=products["tea"].product_class, can_be_bought_again=True)
    products["saucer"].is_public = False
    products["saucer"].save()
    users = [get_user_model().objects.create_user(f"u{i}", f"u{i}@example.com", "pw") for i in range(12)]
    for i, user in enumerate(users):
        for days in (60, 30, 5):
            bought = (products["tea"], products["cup"]) if i % 2 else (products["tea"],)
            place_order(*bought, user=user, placed_at=SHOP_NOW - timedelta(days=days + i))
        for j, item in enumerate(("mug", "teapot", "saucer", "green-tea")):
            Event.objects.create(message_id=f"v-{i}-{j}", type="track", event="Product Viewed", user_id=str(user.pk),
                                 timestamp=SHOP_NOW - timedelta(days=3, minutes=j), received_at=SHOP_NOW, source="browser",
                                 properties={"product_id": str(products[item].pk)})
    # A visitor who browsed before logging in: their views count for the customer.
    Event.objects.create(message_id="anon-1", type="track", event="Product Viewed", anonymous_id="phone-1",
                         timestamp=SHOP_NOW - timedelta(days=1), received_at=SHOP_NOW, source="browser",
                         properties={"product_id": str(products["mug"].pk)})
    IdentityLink.objects.create(kind="anonymous", identifier="phone-1", user_id=str(users[0].pk),
                                first_seen_at=SHOP_NOW, via="identify")
    return products, users
