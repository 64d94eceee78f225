"""Back in stock, price drop and new arrivals, from Oscar's stock records (kept as
snapshots), alerts, wish lists, views and profile favourites."""

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from campaigns.models import StockSnapshot
from tests.campaigns.trigger_data import at, customer, due, due_list, event, guest, order_of, product

pytestmark = pytest.mark.django_db
ProductAlert = get_model("customer", "ProductAlert")
WishList = get_model("wishlists", "WishList")
Product = get_model("catalogue", "Product")


def _stock(product, *, when, num_in_stock=None, price=None):
    """Change the product's stock record (as staff or an import would) and date the snapshot."""
    record = product.stockrecords.get()
    if num_in_stock is not None:
        record.num_in_stock, record.num_allocated = num_in_stock, 0
    if price is not None:
        record.price = Decimal(price)
    record.save()
    latest = StockSnapshot.objects.filter(stockrecord=record).order_by("-pk").first()
    StockSnapshot.objects.filter(pk=latest.pk).update(recorded_at=when)


def _age_first_snapshot(product, when):
    StockSnapshot.objects.filter(product=product).update(recorded_at=when)


def test_stock_records_keep_a_history_of_price_and_availability_changes():
    kettle = product("Kettle", price="30.00", stock=5)
    assert list(StockSnapshot.objects.values_list("price", "in_stock")) == [(Decimal("30.00"), True)]
    record = kettle.stockrecords.get()
    record.num_allocated = 2
    record.save()  # still in stock, same price: nothing new
    record.num_allocated = 5
    record.save()
    record.price = Decimal("25.00")
    record.save()
    assert list(StockSnapshot.objects.order_by("pk").values_list("price", "in_stock")) == [
        (Decimal("30.00"), True), (Decimal("30.00"), False), (Decimal("25.00"), False)]


def test_back_in_stock_reaches_viewers_wishers_and_alert_holders_who_cared_before():
    kettle = product("Kettle", stock=0)
    _age_first_snapshot(kettle, at(days=-20))
    viewer, wisher, alerted, late, buyer = (customer(n) for n in ("viewer", "wisher", "alerted", "late", "buyer"))
    grace = guest("grace@example.org")
    event("Product Viewed", when=at(days=-5), profile=viewer, product_id=str(kettle.pk))
    WishList.objects.create(owner=wisher.user, name="Wishes").add(kettle)
    WishList.objects.filter(owner=wisher.user).update(date_created=at(days=-4))
    alert = ProductAlert.objects.create(user=alerted.user, product=kettle, status=ProductAlert.ACTIVE)
    ProductAlert.objects.filter(pk=alert.pk).update(date_created=at(days=-3))
    guest_alert = ProductAlert.objects.create(email="grace@example.org", product=kettle)  # unconfirmed: not yet
    unconfirmed = ProductAlert.objects.create(email="nobody@example.org", product=kettle)
    guest("nobody@example.org")
    guest_alert.confirm()  # the guest clicked the confirmation link
    ProductAlert.objects.filter(pk__in=[guest_alert.pk, unconfirmed.pk]).update(date_created=at(days=-3))
    event("Product Viewed", when=at(-0.5), profile=late, product_id=str(kettle.pk))  # after the restock
    event("Product Viewed", when=at(days=-5), profile=buyer, product_id=str(kettle.pk))

    assert due("back_in_stock", at(-2)) == {}
    _stock(kettle, when=at(-1), num_in_stock=10)
    order_of(buyer, kettle, placed_at=at(-0.8))
    found = due("back_in_stock", at(0))
    assert set(found) == {viewer.person_key, wisher.person_key, alerted.person_key, grace.person_key}
    assert found[viewer.person_key].window == f"{kettle.pk}:{at(-1).date().isoformat()}"
    assert found[viewer.person_key].context == {"product_ids": [kettle.pk]}
    assert found[viewer.person_key].at == at(-1)
    assert due("back_in_stock", at(days=3)) == {}  # restocked more than 3 days ago
    _stock(kettle, when=at(1), num_in_stock=0)
    assert due("back_in_stock", at(2)) == {}  # out of stock again


def test_price_drop_compares_with_the_price_when_the_customer_looked():
    kettle, mug = product("Kettle", price="50.00"), product("Mug", price="10.00")
    _age_first_snapshot(kettle, at(days=-30))
    _age_first_snapshot(mug, at(days=-30))
    ada, bob, cy = customer("ada"), customer("bob"), customer("cy")
    event("Product Viewed", when=at(days=-10), profile=ada, product_id=str(kettle.pk))  # saw 50.00
    _stock(kettle, when=at(days=-6), price="48.00")  # -4 %: too little for anyone
    event("Product Viewed", when=at(days=-5), profile=bob, product_id=str(kettle.pk))  # saw 48.00
    event("Product Viewed", when=at(days=-5), profile=cy, product_id=str(mug.pk))
    _stock(mug, when=at(days=-4), price="9.50")  # -5 %

    assert due("price_drop", at(0)) == {}
    _stock(kettle, when=at(-1), price="44.00")  # 12 % below 50.00, 8.3 % below 48.00
    found = due_list("price_drop", at(0))
    assert [(d.person_key, d.context) for d in found] == [
        (ada.person_key, {"product_ids": [kettle.pk], "price_was": "50.00", "price_now": "44.00"})]
    snapshot = StockSnapshot.objects.filter(product=kettle).order_by("-recorded_at").first()
    assert found[0].window == f"{kettle.pk}:{snapshot.pk}" and found[0].at == at(-1)
    assert {d.person_key for d in due_list("price_drop", at(0), min_drop_percent=5)} == {ada.person_key, bob.person_key}
    assert due_list("price_drop", at(-1.01)) == []  # before the drop
    assert due_list("price_drop", at(days=3)) == []  # the drop is older than 3 days


def test_new_arrivals_match_favourite_categories_and_brands_once_a_week():
    from oscar.test.factories import CategoryFactory

    tea_category = CategoryFactory(name="Tea")
    fresh = product("Green tea", attributes={"brand": "Leafy"})
    fresh.categories.add(tea_category)
    branded = product("Leafy mug", attributes={"brand": "Leafy"})
    old = product("Old tea")
    old.categories.add(tea_category)
    Product.objects.filter(pk=fresh.pk).update(date_created=at(days=-2))
    Product.objects.filter(pk=branded.pk).update(date_created=at(days=-1))
    Product.objects.filter(pk=old.pk).update(date_created=at(days=-30))
    tea_lover = customer("ada", favourite_categories=["Tea", "Kitchen"])
    brand_fan = customer("bob", favourite_brands=["Leafy"])
    customer("cy", favourite_categories=["Garden"])

    found = due("new_arrivals", at(0))
    assert set(found) == {tea_lover.person_key, brand_fan.person_key}
    assert found[tea_lover.person_key].context == {"product_ids": [fresh.pk]}
    assert found[brand_fan.person_key].context == {"product_ids": [branded.pk, fresh.pk]}  # newest first
    assert found[brand_fan.person_key].window == "2026-W24"
    assert due("new_arrivals", at(days=-3)) == {}  # nothing new yet
    assert due("new_arrivals", at(0), min_products=2).keys() == {brand_fan.person_key}
    assert due("new_arrivals", at(days=6)) == {}  # no longer new
