"""Data-subject rights: a customer's export holds everything, and after their erasure no
table of the database holds their e-mail, name or phone, while their orders stay."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import quote
from datetime import datetime, timedelta, timezone

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from oscar.core.loading import get_model

from ecrm.consents import consent_record
from ecrm.desk import note_add, tags_set
from ecrm.models import Profile, ProfileAccess, Segment
from ecrm.privacy import PrivacyError, customer_erase, customer_export, person_key_hash
from ecrm.segments import static_members_set
from ecrm.services import profiles_refresh
from shop.roles import MARKETING, SUPPORT
from tests.helpers import place_order
from tracking.graph import guest_person, link_identities
from tracking.models import Event, IdentityLink, QuarantinedEvent, Session

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=timezone.utc)
EMAIL, GUEST_EMAIL = "ada.lovelace@example.com", "Ada.Lovelace@Example.com"
PHONE = "+447700900123"
# What must be nowhere after the erasure (the e-mail's local part catches URL-encoded copies).
TRACES = ["ada.lovelace", "Lovelace", "7700900123", "visitor-ada", "12 Analytical Row", "SW1A 9ZZ"]

Order = get_model("order", "Order")
Country = get_model("address", "Country")


def _address(model, **extra):
    return model.objects.create(first_name="Ada", last_name="Lovelace", line1="12 Analytical Row",
                                line4="London", postcode="SW1A 9ZZ", country=Country.objects.get(pk="GB"),
                                **extra)


def _order(product, **kwargs):
    shipping = _address(get_model("order", "ShippingAddress"), phone_number=PHONE, notes="Ring Ada twice")
    return place_order(product, shipping_address=shipping,
                       billing_address=_address(get_model("order", "BillingAddress")), **kwargs)


def _event(n, **fields):
    defaults = {"message_id": f"m-{n}", "type": "track", "timestamp": T0 + timedelta(minutes=n),
                "received_at": T0 + timedelta(minutes=n), "source": "server"}
    return Event.objects.create(**{**defaults, **fields})


@pytest.fixture
def ada(countries, product_in_stock, make_staff):
    """A customer with an account who also checked out as a guest with the same e-mail."""
    user = get_user_model().objects.create_user("ada", EMAIL, "pw", first_name="Ada", last_name="Lovelace")
    context = {"ip": "203.0.113.7", "userAgent": "Mozilla/5.0 (Macintosh) Safari/605",
               "page": {"path": "/checkout/", "url": f"https://shop.test/checkout/?email={EMAIL.replace('@', '%40')}",
                        "referrer": f"https://mail.test/?to={EMAIL}", "search": f"?email={EMAIL}"}}
    events = [
        _event(1, type="identify", user_id=str(user.pk), anonymous_id="visitor-ada-1", context=context,
               traits={"email": EMAIL, "firstName": "Ada", "lastName": "Lovelace", "phone": PHONE}),
        _event(2, event="Product Viewed", anonymous_id="visitor-ada-1", context=context,
               properties={"name": "Cast Iron Skillet 26cm", "note": f"shared with {EMAIL} by Ada Lovelace"}),
        _event(3, event="Order Completed", anonymous_id="visitor-ada-2", context=context,
               properties={"order_id": "guest-1", "email": GUEST_EMAIL}),
    ]
    link_identities(events)
    for key, visitor, user_id in (("s-1", "visitor-ada-1", str(user.pk)), ("s-2", "visitor-ada-2", "")):
        Session.objects.create(key=key, visitor=visitor, user_id=user_id, started_at=T0, last_event_at=T0,
                               entry_path=f"/checkout/?email={EMAIL}", source="google", page_count=2)
    QuarantinedEvent.objects.create(message_id="q-1", reason="test",
                                    payload={"type": "identify", "user_id": str(user.pk), "traits": {"email": EMAIL}})
    orders = [_order(product_in_stock, user=user), _order(product_in_stock, guest_email=GUEST_EMAIL)]
    orders[0].notes.create(message=f"Customer called from {PHONE}", note_type="System")
    profiles_refresh(person_keys={str(user.pk)})
    profile = Profile.objects.get(person_key=str(user.pk))

    staff = make_staff("support@example.com", group=SUPPORT)
    consent_record(profile=profile, channel="email", granted=True, source="checkout",
                   evidence={"ip": "203.0.113.0", "page": "/checkout/"})
    consent_record(profile=profile, channel="email", granted=False, source="account")
    note_add(profile=profile, author=staff, text=f"Ada Lovelace asked for a call on {PHONE}")
    tags_set(profile=profile, staff=staff, tags=["VIP"])
    static_members_set(Segment.objects.create(name="Mathematicians", kind=Segment.STATIC), {profile.pk})
    _address(get_model("address", "UserAddress"), user=user, phone_number=PHONE)
    get_model("basket", "Basket").objects.create(owner=user)
    get_model("analytics", "UserSearch").objects.create(user=user, query="difference engine")
    ProductAlert = get_model("customer", "ProductAlert")
    ProductAlert.objects.create(product=product_in_stock, user=user)
    ProductAlert.objects.create(product=product_in_stock, email=GUEST_EMAIL, key="k1")
    get_model("reviews", "ProductReview").objects.create(product=product_in_stock, user=user, score=5,
                                                         title="Heavy and good", body="Heats evenly.")
    Email = get_model("communication", "Email")
    Email.objects.create(user=user, email=EMAIL, subject="Welcome", body_text="Dear Ada Lovelace")
    Email.objects.create(email=GUEST_EMAIL, subject="Your order", body_text=f"Sent to {GUEST_EMAIL}")
    get_model("communication", "Notification").objects.create(recipient=user, subject="Hello Ada Lovelace")
    # Staff merged a duplicate profile into hers, and dismissed another suggestion.
    from ecrm.duplicates import profile_merge
    from ecrm.models import NotADuplicate

    work = Profile.objects.create(person_key="email:ada.l@work.test", email="ada.l@work.test",
                                  first_name="Ada", last_name="Lovelace")
    profile_merge(keep=profile, remove=work, staff=staff)
    NotADuplicate.objects.create(first_key=profile.person_key, second_key="email:someone@else.test")
    profile.refresh_from_db()
    return profile, orders


@pytest.fixture
def grace(db):
    """Another customer, who must come out of Ada's erasure untouched."""
    link_identities([_event(10, type="identify", user_id="grace-1", anonymous_id="visitor-grace",
                            traits={"email": "grace.hopper@example.com"}, context={"ip": "198.51.100.1"})])
    return Profile.objects.create(person_key="grace-1", email="grace.hopper@example.com", last_name="Hopper")


def _tables_holding(text: str) -> dict[str, int]:
    """Every table of the database, whole rows cast to text, searched for ``text``."""
    assert connection.vendor == "postgresql", "the whole-database scan needs PostgreSQL"
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT count(*) FROM "{table}" AS t WHERE t::text ILIKE %s', [f"%{text}%"])
            if (count := cursor.fetchone()[0]):
                found[table] = count
    return found


def test_the_export_holds_everything(ada):
    profile, orders = ada
    archive = zipfile.ZipFile(io.BytesIO(customer_export(profile)))
    files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert {"README.txt", "profile.json", "orders.json", "events.json", "sessions.json", "consents.json",
            "notes.json", "segments.json", "addresses.json", "baskets.json", "searches.json", "reviews.json",
            "alerts.json", "wishlists.json", "emails.json", "notifications.json"} <= set(files)
    data = {name: json.loads(text) for name, text in files.items() if name.endswith(".json")}
    assert data["profile.json"]["email"] == EMAIL and data["profile.json"]["tags"] == ["VIP"]
    assert sorted(o["number"] for o in data["orders.json"]) == sorted(str(o.number) for o in orders)
    guest = next(o for o in data["orders.json"] if o["guest_email"])
    assert guest["lines"][0]["title"] == "Cast Iron Skillet 26cm"
    assert guest["shipping_address"][0]["postcode"] == "SW1A 9ZZ"
    assert {e["message_id"] for e in data["events.json"]} == {"m-1", "m-2", "m-3"}  # guest checkout too
    assert {s["key"] for s in data["sessions.json"]} == {"s-1", "s-2"}
    assert [c["granted"] for c in data["consents.json"]] == [False, True]  # the whole ledger
    assert "asked for a call" in data["notes.json"][0]["text"]
    assert data["segments.json"][0]["segment__name"] == "Mathematicians"
    assert len(data["alerts.json"]) == 2 and len(data["emails.json"]) == 2 and len(data["reviews.json"]) == 1
    assert data["addresses.json"][0]["line1"] == "12 Analytical Row"
    assert data["searches.json"][0]["query"] == "difference engine"
    assert data["notifications.json"][0]["subject"] == "Hello Ada Lovelace"
    assert "grace" not in "".join(files.values())


def test_erasure_leaves_no_personal_data_and_keeps_the_orders(ada, grace, make_staff):
    profile, orders = ada
    person_key = profile.person_key
    totals = {o.pk: o.total_incl_tax for o in orders}
    assert "auth_user" in _tables_holding(EMAIL)  # the scan sees what is there
    assert all(_tables_holding(trace) for trace in TRACES)

    counts = customer_erase(profile, staff=make_staff("dpo@example.com", group=SUPPORT))

    for trace in TRACES:
        assert _tables_holding(trace) == {}, trace
    assert counts["tracking.Event"] == 3 and counts["order.Order"] == 2 and counts["auth.User"] == 1
    kept = Order.objects.filter(pk__in=totals).prefetch_related("lines")
    assert {o.pk: o.total_incl_tax for o in kept} == totals
    assert all(o.user_id is None and o.guest_email == "" and o.lines.count() == 1 for o in kept)
    assert Event.objects.filter(message_id__in=["m-1", "m-2", "m-3"]).values("anonymous_id").distinct().count() == 1
    viewed = Event.objects.get(message_id="m-2")
    assert viewed.properties["name"] == "Cast Iron Skillet 26cm" and viewed.context["page"] == {
        "path": "/checkout/", "url": "https://shop.test/checkout/", "referrer": "https://mail.test/"}
    assert get_model("reviews", "ProductReview").objects.get().name == "A former customer"
    erased = ProfileAccess.objects.get(action=ProfileAccess.ERASE)
    assert erased.person_key == person_key_hash(person_key) and erased.staff.email == "dpo@example.com"
    assert not ProfileAccess.objects.filter(person_key=person_key).exists()
    assert Profile.objects.get() == grace  # Grace keeps everything
    assert Event.objects.get(user_id="grace-1").context == {"ip": "198.51.100.1"}
    assert _tables_holding("grace.hopper") and IdentityLink.objects.filter(user_id="grace-1").exists()
    assert Segment.objects.get(name="Mathematicians").member_count == 0


def test_a_guest_is_erased_by_the_e_mail_of_their_checkout(countries, product_in_stock, make_staff):
    order = _order(product_in_stock, guest_email=GUEST_EMAIL)
    link_identities([_event(1, event="Order Completed", anonymous_id="visitor-ada-9",
                            properties={"order_id": order.number, "email": GUEST_EMAIL},
                            context={"ip": "203.0.113.9", "page": {"path": f"/checkout/{quote(EMAIL)}/"}})])
    profiles_refresh(person_keys={guest_person(GUEST_EMAIL)})
    profile = Profile.objects.get(person_key=guest_person(GUEST_EMAIL))
    staff = make_staff("support-guest@example.com", group=SUPPORT)
    client = Client()
    client.force_login(staff)
    assert client.get(f"/dashboard/customers/support-desk/{profile.pk}/").status_code == 200  # audited
    assert ProfileAccess.objects.filter(person_key=profile.person_key).exists()

    counts = customer_erase(profile, staff=staff)

    for trace in TRACES:
        assert _tables_holding(trace) == {}, trace
    assert counts["order.Order"] == 1 and "auth.User" not in counts
    assert Order.objects.get(pk=order.pk).total_incl_tax == order.total_incl_tax
    assert Event.objects.get().context["page"]["path"] == "/checkout/[erased]/"


def test_staff_cannot_be_erased(make_staff):
    user = make_staff("clerk@example.com", group=SUPPORT)
    profile = Profile.objects.create(person_key=str(user.pk), user=user, email=user.email)
    with pytest.raises(PrivacyError):
        customer_erase(profile, staff=None)
    assert Profile.objects.filter(pk=profile.pk).exists()


def test_the_commands(ada, tmp_path):
    profile, _orders = ada
    out = tmp_path / "ada.zip"
    call_command("ecrm_export_customer", "--email", EMAIL, "--out", str(out), stdout=io.StringIO())
    assert "orders.json" in zipfile.ZipFile(out).namelist()
    assert ProfileAccess.objects.filter(action=ProfileAccess.EXPORT, profile=profile).exists()

    stdout = io.StringIO()
    with pytest.raises(CommandError, match="--yes"):
        call_command("ecrm_erase_customer", "--email", EMAIL, stdout=stdout)
    assert "orders (kept, personal fields scrubbed): 2" in stdout.getvalue()
    assert Profile.objects.filter(pk=profile.pk).exists()

    with pytest.raises(CommandError) as unknown:
        call_command("ecrm_erase_customer", "--email", "nobody@example.com", "--yes")
    assert unknown.value.returncode == 2

    call_command("ecrm_erase_customer", "--user-id", profile.person_key, "--yes", stdout=io.StringIO())
    assert not Profile.objects.filter(pk=profile.pk).exists() and _tables_holding(EMAIL) == {}


@pytest.mark.parametrize(("group", "status"), [(SUPPORT, 200), (MARKETING, 403), (None, 403)])
def test_who_may_export_and_erase(ada, make_staff, group, status):
    profile, _orders = ada
    client = Client()
    client.force_login(make_staff(f"{group}-staff@example.com", group=group))
    card = client.get(f"/dashboard/customers/support-desk/{profile.pk}/").content.decode()
    assert ("Download data (ZIP)" in card) == ("Erase customer" in card) == (status == 200)
    export = client.get(f"/dashboard/customers/support-desk/{profile.pk}/export/")
    assert export.status_code == status
    assert client.get(f"/dashboard/customers/support-desk/{profile.pk}/erase/").status_code == status
    if status == 200:
        assert export["Content-Type"] == "application/zip" and EMAIL not in export["Content-Disposition"]
        assert ProfileAccess.objects.filter(action=ProfileAccess.EXPORT, staff__isnull=False).count() == 1
    assert client.post(f"/dashboard/customers/support-desk/{profile.pk}/erase/",
                       {"confirm": "yes"}).status_code == (302 if status == 200 else 403)
    assert Profile.objects.filter(pk=profile.pk).exists() == (status != 200)


def test_customers_and_visitors_cannot(ada):
    profile, _orders = ada
    customer = Client()
    customer.force_login(profile.user)
    for client, expected in ((customer, 403), (Client(), 302)):
        for action in ("export", "erase"):
            assert client.get(f"/dashboard/customers/support-desk/{profile.pk}/{action}/").status_code == expected


def test_erasing_needs_a_csrf_token_and_the_box_ticked(ada, make_staff):
    profile, _orders = ada
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("support-csrf@example.com", group=SUPPORT))
    url = f"/dashboard/customers/support-desk/{profile.pk}/erase/"
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    page = client.get(url)
    assert b"Erase customer" in page.content and b"orders (kept" in page.content.lower()
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == 302  # box not ticked
    assert Profile.objects.filter(pk=profile.pk).exists()
    response = client.post(url, {"csrfmiddlewaretoken": token, "confirm": "yes"})
    assert response.status_code == 302 and response["Location"].endswith("/support-desk/")
    assert not Profile.objects.filter(pk=profile.pk).exists()
    assert ProfileAccess.objects.filter(action=ProfileAccess.ERASE).count() == 1
