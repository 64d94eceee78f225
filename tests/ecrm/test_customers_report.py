"""The Customers report against scripted orders: who the customers are (guests by e-mail,
a guest checkout claimed by an account), the Pareto share, cohorts, repeat rate, and
sales by segment, region, category and price band; the page, its CSV, permissions and
bad input."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_model
from oscar.test.factories import create_product

from ecrm.dashboard.customer_report_views import customers_report
from ecrm.models import Profile, Segment, SegmentMembership
from shop.roles import MARKETING, SUPPORT
from tests.helpers import place_order
from tracking.models import IdentityLink

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)
URL = "/dashboard/customers/support-desk/reports/customers/"
Order = get_model("order", "Order")
Country = get_model("address", "Country")
ProductCategory = get_model("catalogue", "ProductCategory")


def _address(model, country, state):
    return model.objects.create(first_name="A", last_name="B", line1="1 Road", line4="Town", state=state,
                                postcode="X1", country=Country.objects.get(pk=country))


@pytest.fixture
def customers(countries, product_in_stock, django_user_model):
    """Five customers' orders (skillet 34.99 in Cookware, spoon 5.00 in Utensils)."""
    Country.objects.create(iso_3166_1_a2="US", iso_3166_1_a3="USA", iso_3166_1_numeric="840",
                           printable_name="United States", name="United States of America")
    spoon = create_product(title="Wooden Spoon", upc="SPOON", price=Decimal("5.00"), num_in_stock=100)
    ProductCategory.objects.create(product=spoon, category=create_from_breadcrumbs("Kitchen > Utensils"))
    skillet = product_in_stock
    ada, cy, dee = (django_user_model.objects.create_user(username=n, email=f"{n}@example.com") for n in
                    ("ada", "cy", "dee"))
    # Ada's guest checkout before she registered, claimed by her account's identify.
    IdentityLink.objects.create(kind=IdentityLink.EMAIL, identifier="ada-old@example.com", user_id=str(ada.pk),
                                first_seen_at=NOW, via="identify")
    ShippingAddress, BillingAddress = get_model("order", "ShippingAddress"), get_model("order", "BillingAddress")
    days = lambda n: NOW - timedelta(days=n)  # noqa: E731
    place_order(skillet, guest_email="ada-old@example.com", placed_at=days(60))                 # January
    place_order(skillet, quantity=2, user=ada, placed_at=days(10),
                shipping_address=_address(ShippingAddress, "GB", "Greater London"))             # 69.98
    place_order(spoon, guest_email="bea@example.com", placed_at=days(20),
                billing_address=_address(BillingAddress, "US", "NY"))                           # February
    place_order(spoon, guest_email="BEA@example.com", placed_at=days(5),
                billing_address=_address(BillingAddress, "US", "NY"))
    place_order(spoon, user=cy, placed_at=days(3))
    place_order(skillet, user=dee, placed_at=days(2))
    cancelled = place_order(skillet, quantity=3, user=dee, placed_at=days(1))
    cancelled.status = "Cancelled"
    cancelled.save()
    place_order(spoon, quantity=4, guest_email="eve@example.com", placed_at=days(15),
                shipping_address=_address(ShippingAddress, "US", "CA"))
    vip = Segment.objects.create(name="VIP", kind=Segment.STATIC)
    SegmentMembership.objects.create(segment=vip, profile=Profile.objects.create(person_key=str(ada.pk)))
    return {"ada": ada, "cy": cy, "dee": dee}


@pytest.mark.parametrize("wholesale", [False, True], ids=["few customers", "many customers"])
def test_report_numbers_match_the_scripted_orders(customers, wholesale, monkeypatch):
    if wholesale:  # the reads used for many customers: every identity link and membership at once
        monkeypatch.setattr("ecrm.services.OWNERS_WHOLESALE", 0)
        monkeypatch.setattr("ecrm.customer_reports.MEMBERSHIPS_WHOLESALE", 0)
    report = customers_report(days=30, months=3, now=NOW)
    in_period = Order.objects.filter(date_placed__gte=NOW - timedelta(days=30), date_placed__lt=NOW).exclude(
        status="Cancelled")
    total = in_period.aggregate(t=Sum("total_incl_tax"))["t"]
    assert total == Decimal("69.98") + 2 * Decimal("5") + Decimal("5") + Decimal("34.99") + Decimal("20")
    summary = report["summary"]
    assert (summary["orders"], summary["revenue"], summary["customers"]) == (6, total, 5)
    assert summary["new_customers"] == 4  # Ada's first order (as a guest) is January's
    assert (summary["repeat_customers"], summary["repeat_rate"]) == (2, 0.4)  # Ada, Bea; Dee's second was cancelled
    pareto = report["pareto"]
    assert (pareto["customers"], pareto["top_customers"]) == (5, 1)
    assert pareto["top_share"] == pytest.approx(69.98 / float(total))
    cohorts = {row["cohort"].month: row["retained"] for row in report["cohorts"]}
    assert cohorts == {1: [1, 0, 1], 2: [1, 1], 3: [3]}  # Ada Jan→Mar, Bea Feb→Mar, Cy/Dee/Eve March
    assert [(r["month"].month, r["orders"]) for r in report["monthly"]] == [(1, 1), (2, 1), (3, 5)]
    segments = {r["segment"]: (r["customers"], r["orders"], r["revenue"]) for r in report["segments"]}
    assert segments == {"VIP": (1, 1, Decimal("69.98")), "(in no segment)": (4, 5, total - Decimal("69.98"))}
    regions = {(r["country"], r["region"]): (r["orders"], r["revenue"]) for r in report["regions"]}
    assert regions == {("United Kingdom", "Greater London"): (1, Decimal("69.98")),
                       ("United States", "NY"): (2, Decimal("10.00")), ("United States", "CA"): (1, Decimal("20.00")),
                       ("(none)", "(none)"): (2, Decimal("39.99"))}
    assert [(r["country"], r["orders"]) for r in report["countries"]] == [
        ("United Kingdom", 1), ("(none)", 2), ("United States", 3)]
    categories = {r["category"]: (r["units"], r["revenue"]) for r in report["categories"]}
    assert categories == {"Cookware": (3, Decimal("104.97")), "Utensils": (7, Decimal("35.00"))}
    bands = {r["band"]: (r["lines"], r["units"], r["revenue"]) for r in report["price_bands"]}
    assert bands["under 10"] == (4, 7, Decimal("35.00")) and bands["25–50"] == (2, 3, Decimal("104.97"))
    assert bands["10–25"] == (0, 0, Decimal("0"))


def test_the_page_csv_permissions_and_bad_input(customers, make_staff):
    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    page = client.get(URL, {"days": "730", "months": "24"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "lorenz-chart" in html and "cohort-table" in html and "Greater London" in html and "VIP" in html
    csv = client.get(URL, {"days": "730", "format": "csv"}).content.decode()
    assert "summary,7,174.96,5,24.99,5,2,0.4000" in csv  # every sale; all five are new; Ada and Bea repeat
    for bad in ({"days": "0"}, {"days": "abc"}, {"days": "731"}, {"months": "37"}, {"format": "xml"}):
        response = client.get(URL, bad)
        assert response.status_code == 400 and "must be" in response.content.decode(), bad
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get(URL).status_code == 403
    assert Client().get(URL).status_code == 302  # to the login page


def test_an_empty_store_gets_the_page_without_figures(make_staff):
    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="pareto-share">—<' in html and 'id="repeat-rate">—<' in html
    assert "No orders in this period." in html
    assert client.get(URL, {"format": "csv"}).content.decode().startswith("section,orders,revenue")


# --- The report reads each order's resolved customer, kept incrementally (ecrm.customer_orders) ---

def _same_as_direct(now=NOW):
    """The report from the ``CustomerOrder`` rows equals the same report from every order
    resolved at query time, for a short and a long period; returns the long one."""
    for days, months in ((30, 3), (730, 24)):
        report = customers_report(days=days, months=months, now=now)
        assert report == customers_report(days=days, months=months, now=now, direct=True), (days, months)
    return report


def _rows():
    from ecrm.models import CustomerOrder

    return sorted(CustomerOrder.objects.values_list("order_id", "base_person", "person", "placed_at", "total",
                                                    "is_sale"))


def test_the_rows_follow_orders_as_they_are_placed_re_dated_and_cancelled(customers):
    from ecrm.models import CustomerOrder

    report = _same_as_direct()
    assert report["summary"]["orders"] == 7 and report["summary"]["customers"] == 5
    ada = str(customers["ada"].pk)
    # Ada's guest checkout is hers: the e-mail was claimed before the orders were placed.
    assert set(CustomerOrder.objects.filter(person=ada).values_list("base_person", flat=True)) == {
        ada, "email:ada-old@example.com"}
    # Bea's two checkouts, with the address typed differently, are one customer.
    assert CustomerOrder.objects.filter(person="email:bea@example.com").count() == 2
    assert CustomerOrder.objects.filter(is_sale=False).count() == 1  # Dee's cancelled order
    order = Order.objects.get(user=customers["cy"])
    order.status = "Cancelled"
    order.save()
    assert not CustomerOrder.objects.get(order_id=order.pk).is_sale
    _same_as_direct()
    order.delete()
    assert not CustomerOrder.objects.filter(order_id=order.pk).exists()
    assert _same_as_direct()["summary"]["customers"] == 4


def test_a_claim_through_tracking_moves_a_guests_orders_to_the_account(customers):
    from ecrm.aggregates_pending import pending_apply
    from ecrm.models import CustomerOrder
    from tests.ecrm.test_traffic import send

    cy = str(customers["cy"].pk)
    # Bea was a guest; Cy's account identifies (server side) with her address: one customer.
    send({"type": "identify", "messageId": "claim-1", "userId": cy, "anonymousId": "cy-phone",
          "traits": {"email": "Bea@Example.com"}, "timestamp": NOW.isoformat()}, count=False)
    assert CustomerOrder.objects.filter(person="email:bea@example.com").count() == 2  # not counted yet
    assert customers_report(days=30, months=3, now=NOW) != customers_report(days=30, months=3, now=NOW,
                                                                             direct=True)
    pending_apply()
    assert set(CustomerOrder.objects.filter(base_person="email:bea@example.com").values_list(
        "person", flat=True)) == {cy}
    report = _same_as_direct()
    assert report["summary"]["customers"] == 4


def test_numbers_stay_equal_after_two_profiles_are_merged(customers, make_staff):
    from ecrm.duplicates import profile_merge
    from ecrm.services import profiles_refresh

    profiles_refresh(person_keys={str(customers["dee"].pk), "email:eve@example.com"})
    dee, eve = (Profile.objects.get(person_key=k) for k in (str(customers["dee"].pk), "email:eve@example.com"))
    before = _same_as_direct()
    profile_merge(keep=dee, remove=eve, staff=make_staff("s@example.com", group=SUPPORT))
    after = _same_as_direct()
    assert after["summary"]["customers"] == before["summary"]["customers"] - 1
    assert after["summary"]["repeat_customers"] == before["summary"]["repeat_customers"] + 1  # Dee + Eve
    # Merging into the guest works the same way round: Cy's account into Bea's guest profile.
    profiles_refresh(person_keys={str(customers["cy"].pk), "email:bea@example.com"})
    cy, bea = (Profile.objects.get(person_key=k) for k in (str(customers["cy"].pk), "email:bea@example.com"))
    profile_merge(keep=bea, remove=cy, staff=make_staff("t@example.com", group=SUPPORT))
    assert _same_as_direct()["summary"]["customers"] == before["summary"]["customers"] - 2


def test_an_erased_customer_stays_one_anonymous_customer(customers, make_staff):
    from ecrm.customer_orders import customer_orders_refresh
    from ecrm.models import CustomerOrder
    from ecrm.privacy import customer_erase
    from ecrm.services import profiles_refresh
    from tests.ecrm.test_traffic import send

    ada = str(customers["ada"].pk)
    # The store's "Order Completed" events (as tracking's order receiver records them) reach the events table.
    send(*[{"messageId": f"order-{o.number}-completed", "event": "Order Completed",
            "timestamp": o.date_placed.isoformat(), **({"userId": str(o.user_id)} if o.user_id else {"anonymousId": f"guest:{o.guest_email.lower()}"}),
            "properties": {"order_id": o.number, "total": str(o.total_incl_tax)}} for o in Order.objects.all()])
    before = _same_as_direct()
    profiles_refresh(person_keys={ada})
    customer_erase(Profile.objects.get(person_key=ada), staff=make_staff("dpo@example.com", group=SUPPORT))
    erased = set(CustomerOrder.objects.filter(order_id__in=[r[0] for r in _rows() if r[1].startswith("erased-")])
                 .values_list("person", flat=True))
    assert len(erased) == 1 and not CustomerOrder.objects.filter(person=ada).exists()  # both orders, one pseudonym
    after = _same_as_direct()
    assert after["summary"] == before["summary"]  # still five customers, two repeat
    assert after["pareto"] == before["pareto"] and after["cohorts"] == before["cohorts"]
    snapshot = _rows()
    customer_orders_refresh()  # the rebuild finds what was kept incrementally
    assert _rows() == snapshot


def test_the_rebuild_command_restores_every_row(customers):
    from django.core.management import call_command

    from ecrm.models import CustomerOrder

    snapshot = _rows()
    CustomerOrder.objects.all().delete()
    call_command("ecrm_rebuild_aggregates", "--customers", stdout=open("/dev/null", "w"))
    assert _rows() == snapshot and len(snapshot) == Order.objects.count()


def test_migrate_fills_the_rows_of_a_store_upgrading_with_orders(customers):
    from django.apps import apps

    from ecrm.models import CustomerOrder
    from ecrm.receivers import resolve_the_customers_of_existing_orders

    snapshot = _rows()
    CustomerOrder.objects.all().delete()
    resolve_the_customers_of_existing_orders(sender=None, app_config=apps.get_app_config("catalogue"))
    assert not CustomerOrder.objects.exists()  # only once ecrm's tables are migrated
    resolve_the_customers_of_existing_orders(sender=None, app_config=apps.get_app_config("ecrm"))
    assert _rows() == snapshot
