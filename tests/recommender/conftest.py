"""Shared fixtures: the tiny hand-written CSV and a small deterministic synthetic shop."""

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from recommender.config import load_config
from recommender.data import Interactions, TrainData, parse_timestamp
from recommender.items import ItemFeatures, with_catalogue
from recommender.synthetic import generate, item_catalogue, write_csv

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def config():
    return load_config(overrides={"time_budget_seconds": 5.0})


@pytest.fixture
def tiny_csv():
    return FIXTURES / "tiny.csv"


@pytest.fixture(scope="session")
def synthetic_rows():
    return generate(n_users=150, n_items=120, n_categories=5, seed=3)


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory, synthetic_rows):
    path = tmp_path_factory.mktemp("syn") / "shop.csv"
    write_csv(path, synthetic_rows)
    return path


@pytest.fixture(scope="session")
def synthetic_items():
    """The synthetic shop's catalogue (title, description, category, brand, attributes)."""
    return item_catalogue(n_items=120, n_categories=5, seed=3)


@pytest.fixture(scope="session")
def synthetic(synthetic_rows, synthetic_items):
    cfg = load_config()
    u, i, t, e, c = zip(*synthetic_rows)
    inter = Interactions.from_records(u, i, [parse_timestamp(x) for x in t], e, cfg, categories=c)
    return TrainData.build(with_catalogue(inter, ItemFeatures.from_rows(synthetic_items)), cfg)


# --- A small Oscar shop with history, trained on by the serving tests -------------------

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
def shop(countries):
    """Tea drinkers who rebuy tea (a class that can be bought again) and browse cups (bought
    once); a sold-out product; a hidden one."""
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
