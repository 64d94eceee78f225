"""Content similarity in the shop: every public product's features from Oscar's catalogue,
a ``content`` list published with the model version, and the "similar" slot of a product
nobody has seen yet (real PostgreSQL and Redis)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from recommender.models import ModelVersion
from recommender.serving import recommendations_for
from recommender.store_data import store_items
from recommender.training import train_version
from tests.helpers import place_order
from tracking.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]
NOW = timezone.now()


@pytest.fixture
def teashop(countries):
    """Teas and cups people buy and view, and a new tea that nobody has seen yet."""
    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    ProductCategory = get_model("catalogue", "ProductCategory")
    tea, cups = create_from_breadcrumbs("Kitchen > Tea"), create_from_breadcrumbs("Kitchen > Cups")
    specs = {
        "assam": ("Leafco Assam breakfast tea", "<p>Strong, malty <b>black tea</b></p>", tea, "Tea", "Leafco"),
        "earl-grey": ("Leafco Earl Grey tea", "Black tea with bergamot", tea, "Tea", "Leafco"),
        "mug": ("Potters stoneware mug", "A big stoneware mug", cups, "Tableware", "Potters"),
        "cup": ("Potters porcelain cup", "A fine porcelain cup and saucer", cups, "Tableware", "Potters"),
        "new-tea": ("Leafco Assam tea, extra strong", "Extra strong malty black tea", tea, "Tea", "Leafco"),
        "hidden-tea": ("Leafco Assam tea, old label", "Strong malty black tea", tea, "Tea", "Leafco"),
    }
    products = {}
    for name, (title, description, category, product_class, brand) in specs.items():
        products[name] = create_product(title=title, upc=name.upper(), product_class=product_class,
                                        price=Decimal("4.00"), num_in_stock=20, description=description,
                                        attributes={"brand": brand, "origin": "India" if category == tea else ""})
        ProductCategory.objects.create(product=products[name], category=category)
    products["hidden-tea"].is_public = False
    products["hidden-tea"].save()
    users = [get_user_model().objects.create_user(f"t{i}", f"t{i}@example.com", "pw") for i in range(8)]
    for i, user in enumerate(users):
        place_order(products["assam"] if i % 2 else products["earl-grey"], user=user,
                    placed_at=NOW - timedelta(days=20 + i))
        place_order(products["mug"], products["assam"], user=user, placed_at=NOW - timedelta(days=5 + i))
        for j, item in enumerate(("cup", "mug")):
            Event.objects.create(message_id=f"tv-{i}-{j}", type="track", event="Product Viewed",
                                 user_id=str(user.pk), timestamp=NOW - timedelta(days=2, minutes=j), received_at=NOW,
                                 source="browser", properties={"product_id": str(products[item].pk)})
    return products


def test_store_items_describe_every_public_product(teashop):
    features = store_items()
    by_id = {item: i for i, item in enumerate(features.item_ids)}
    new = by_id[str(teashop["new-tea"].pk)]  # no interactions, still described
    assert str(teashop["hidden-tea"].pk) not in by_id
    assert features.title[new] == "Leafco Assam tea, extra strong" and features.brand[new] == "Leafco"
    assert features.category[new] == "Kitchen > Tea" and features.primary_category[new] == "Tea"
    assert features.attributes[new] == {"origin": "India", "product class": "Tea"}
    assert features.description[by_id[str(teashop["assam"].pk)]] == "Strong, malty black tea"  # no HTML


def test_a_new_product_gets_similar_items_by_content(teashop):
    version = train_version()
    assert version.status == ModelVersion.SERVING
    assert version.items == 5  # four bought or viewed, and the new tea before anyone has seen it
    similar = recommendations_for(slot="similar", product=teashop["new-tea"], k=3)
    assert similar[0].product == teashop["assam"] and similar[0].source == "content"
    assert teashop["hidden-tea"] not in [r.product for r in similar]
    # A product people viewed with others: co-viewed items first, content fills up after them.
    mug = recommendations_for(slot="similar", product=teashop["mug"], k=4)
    assert mug[0].product == teashop["cup"] and mug[0].source == "similar"
    sources = [r.source for r in mug]
    assert "content" in sources and sources.index("content") > sources.index("similar")


def test_the_new_product_is_published_in_its_category(teashop):
    from recommender.publish import client, key

    version = train_version()
    assert client().hget(key(version.pk, "category"), str(teashop["new-tea"].pk)) == "Tea"
    assert client().hget(key(version.pk, "content"), str(teashop["new-tea"].pk)).split(",")[0] == \
        str(teashop["assam"].pk)
