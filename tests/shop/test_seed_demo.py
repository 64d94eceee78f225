"""``shop_seed_demo`` builds a real store through Oscar's own entry points, deterministically
and idempotently."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from oscar.core.loading import get_model

from campaigns.models import Message
from shop.demo.accounts import DEMO_ACCOUNTS
from shop.roles import MARKETING, SUPPORT

Order = get_model("order", "Order")
Basket = get_model("basket", "Basket")
Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
StockRecord = get_model("partner", "StockRecord")
ProductRecord = get_model("analytics", "ProductRecord")
UserProductView = get_model("analytics", "UserProductView")

ARGS = ["--seed", "42", "--customers", "30", "--days", "60", "--products", "120",
        "--end-date", "2026-11-01", "--verbosity", "0"]

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _fingerprint() -> dict:
    orders = sorted(
        (o.number, str(o.total_incl_tax), o.status, o.date_placed.isoformat(),
         tuple(sorted((line.upc, line.quantity) for line in o.lines.all())),
         tuple(o.status_changes.order_by("date_created").values_list("new_status", flat=True)))
        for o in Order.objects.prefetch_related("lines")
    )
    return {
        "orders": orders,
        "customers": sorted(
            get_user_model().objects.filter(is_staff=False).values_list("email", "date_joined")),
        "products": sorted(Product.objects.values_list("upc", "title", "stockrecords__price",
                                                       "stockrecords__num_in_stock")),
        "open_baskets": Basket.objects.filter(status=Basket.OPEN, lines__isnull=False).distinct().count(),
        "views": sorted(ProductRecord.objects.values_list("product__upc", "num_views")),
    }


def _wipe_demo():
    Order.objects.all().delete()
    Basket.objects.all().delete()
    ProductRecord.objects.all().delete()
    get_user_model().objects.all().delete()
    Product.objects.all().delete()


def test_seed_builds_a_store_with_real_orders(site_pages):
    call_command("shop_seed_demo", *ARGS)

    assert Product.objects.count() == 120
    # Consumables have classes of their own, which the recommender may show again after a purchase.
    from recommender.models import RepurchasePolicy
    from shop.demo.catalogue_data import LEAVES
    from shop.demo.store import class_name

    assert set(RepurchasePolicy.objects.filter(can_be_bought_again=True).values_list(
        "product_class__name", flat=True)) == {class_name(leaf[0], True) for leaf in LEAVES if leaf[5]}
    assert not Product.objects.filter(product_class__name__endswith="consumables",
                                      attribute_values__attribute__code="colour").exists()
    assert Category.objects.filter(depth=2).count() >= 20
    assert StockRecord.objects.filter(num_in_stock=0).exists()
    assert StockRecord.objects.filter(num_in_stock__gt=0).count() > 100
    customers = get_user_model().objects.filter(is_staff=False)
    assert customers.count() == 30
    assert all(c.addresses.exists() for c in customers)

    orders = Order.objects.all()
    assert orders.count() >= 10
    order = orders.filter(status="Delivered").first()
    assert order is not None
    assert order.lines.exists() and order.total_incl_tax > 0
    assert order.user is not None and order.shipping_address.line4
    assert list(order.status_changes.order_by("date_created").values_list("new_status", flat=True)) == [
        "Processing", "Shipped", "Delivered"]
    assert order.date_placed < order.status_changes.get(new_status="Delivered").date_created
    # Replayed history e-mails nobody ("your order has shipped" months later would be wrong).
    assert not Message.objects.exists()
    # Placed through Oscar's OrderCreator, so Oscar's own order_placed receivers ran.
    assert ProductRecord.objects.filter(num_purchases__gt=0).exists()
    # Browsing went through Oscar's product_viewed signal, dated by the simulated clock.
    assert UserProductView.objects.exists()
    from datetime import datetime, timezone

    end = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert UserProductView.objects.filter(date_created__gte=end).count() == 0
    from oscar.core.loading import get_model as model

    assert not model("analytics", "UserSearch").objects.filter(date_created__gte=end).exists()
    assert not model("basket", "Line").objects.filter(date_created__gte=end).exists()
    assert Basket.objects.filter(status=Basket.OPEN, owner__isnull=False, lines__isnull=False).exists()
    # Brand is a product attribute (facets, segments and the recommender's content features use it).
    product = Product.objects.first()
    assert product.attr.brand and product.title.startswith(product.attr.brand)


def test_seed_creates_staff_accounts_in_their_groups(site_pages):
    call_command("shop_seed_demo", *ARGS)
    User = get_user_model()
    for account in DEMO_ACCOUNTS:
        user = User.objects.get(email=account["email"])
        assert user.is_staff and user.check_password(account["password"])
        assert user.is_superuser is account["superuser"]
    assert User.objects.get(email="marketing@example.com").groups.get().name == MARKETING
    assert User.objects.get(email="support@example.com").groups.get().name == SUPPORT


def test_reseeding_adds_nothing(site_pages):
    call_command("shop_seed_demo", *ARGS)
    before = _fingerprint()
    call_command("shop_seed_demo", *ARGS)
    assert _fingerprint() == before


def test_same_seed_rebuilds_the_same_store(site_pages):
    call_command("shop_seed_demo", *ARGS)
    first = _fingerprint()
    _wipe_demo()
    assert Order.objects.count() == 0
    call_command("shop_seed_demo", *ARGS)
    assert _fingerprint() == first


def test_more_customers_adds_only_the_new_ones(site_pages):
    call_command("shop_seed_demo", *ARGS)
    numbers = set(Order.objects.values_list("number", flat=True))
    call_command("shop_seed_demo", *[a if a != "30" else "40" for a in ARGS])
    assert get_user_model().objects.filter(is_staff=False).count() == 40
    assert numbers < set(Order.objects.values_list("number", flat=True))


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--customers", "-1"], "--customers must be at least 0"),
     (["--days", "0"], "--days must be at least 1"),
     (["--end-date", "22/11/2026"], "is not a date like")],
)
def test_bad_arguments_are_explained(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("shop_seed_demo", *args)


def test_another_seed_on_a_seeded_database_is_refused(site_pages):
    call_command("shop_seed_demo", *ARGS)
    with pytest.raises(CommandError, match="another --seed"):
        call_command("shop_seed_demo", *["7" if a == "42" else a for a in ARGS])


def test_seeded_behaviour_arrives_as_tracked_events_at_simulated_times(
    site_pages, django_capture_on_commit_callbacks, settings
):
    import uuid
    from datetime import datetime, timezone

    from tracking.consumer import consume_once, ensure_group
    from tracking.models import Event

    settings.TRACKING_STREAM = f"test-seed-{uuid.uuid4().hex[:8]}"
    ensure_group()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("shop_seed_demo", *[a if a != "30" else "6" for a in ARGS])
    while consume_once("test", block_ms=50):
        pass

    names = set(Event.objects.values_list("event", flat=True))
    assert {"Product Viewed", "Product Added", "Order Completed", "Order Updated"} <= names
    start, end = datetime(2026, 9, 2, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert all(start <= t < end for t in Event.objects.values_list("timestamp", flat=True))
    customer_events = Event.objects.exclude(user_id="")
    assert customer_events.exists()
    assert all(e.anonymous_id.startswith("demo-c") for e in customer_events if e.anonymous_id)
    assert customer_events.filter(event="Product Viewed", anonymous_id__startswith="demo-c").exists()
    order_events = Event.objects.filter(event="Order Completed")
    assert order_events.count() == Order.objects.count()
    # Basket events that live traffic records through the basket page's middleware.
    assert {"Cart Viewed", "Product Removed"} <= names
    added = Event.objects.filter(event="Product Added").first()
    assert added.properties["cart_id"] and added.properties["price"] > 0
    # Each event carries the page it happened on, a real store URL.
    viewed = Event.objects.filter(event="Product Viewed").first()
    assert viewed.context["page"]["path"].startswith("/catalogue/") and "DEMO" not in viewed.context["page"]["path"]
    from django.test import Client

    assert Client().get(viewed.context["page"]["path"]).status_code == 200
    assert Event.objects.filter(event="Cart Viewed").first().context["page"]["path"] == "/basket/"
    # Sessions keep the simulated visit's source (search, campaign, referral, direct), never
    # the store's own pages as a referrer.
    from tracking.models import Session

    media = set(Session.objects.values_list("medium", flat=True))
    assert {"organic", "none"} <= media and len(media) >= 3
    assert not Session.objects.filter(referrer_domain="testserver").exists()


def test_countries_are_added_without_chatter(capsys):
    from shop.demo.store import ensure_countries

    Country = get_model("address", "Country")
    Country.objects.all().delete()
    ensure_countries()
    assert Country.objects.get(iso_3166_1_a2="GB").display_order == 1
    assert "countries" not in capsys.readouterr().out
