"""The card's Analytics tab for one customer: their searches outside and inside the store,
viewed products, entry pages and sources, time on site and pages per session — across the
devices linked to them and a guest checkout claimed by their account, and nobody else's."""

from datetime import datetime, timedelta, timezone

import pytest
from django.test import Client

from ecrm.customer_analytics import customer_analytics
from ecrm.models import Profile
from shop.roles import SUPPORT
from tracking.models import Event, IdentityLink, Session

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


@pytest.fixture
def ada(product_in_stock, django_user_model):
    user = django_user_model.objects.create_user(username="ada", email="ada@example.com")
    me = str(user.pk)
    for kind, identifier, person in ((IdentityLink.ANONYMOUS, "ada-phone", me),
                                     (IdentityLink.EMAIL, "ada-old@example.com", me),
                                     (IdentityLink.ANONYMOUS, "guest-laptop", "email:ada-old@example.com")):
        IdentityLink.objects.create(kind=kind, identifier=identifier, user_id=person, first_seen_at=T0, via="test")
    sessions = [("s1", "ada-phone", "", 0, 10, 4, "google", "organic", "", "cast iron skillet", "/catalogue/skillet/"),
                ("s2", me, me, 60, 20, 6, "newsletter", "email", "spring", "", "/"),
                ("s3", "guest-laptop", "", 120, 0, 1, "direct", "none", "", "", "/basket/"),
                ("x1", "stranger", "", 0, 50, 9, "bing", "organic", "", "secret terms", "/")]
    for key, visitor, user_id, start, minutes, pages, source, medium, campaign, terms, entry in sessions:
        started = T0 + timedelta(minutes=start)
        Session.objects.create(key=key, visitor=visitor, user_id=user_id, started_at=started, device="mobile",
                               last_event_at=started + timedelta(minutes=minutes), page_count=pages,
                               event_count=pages + 1, source=source, medium=medium, campaign=campaign,
                               search_terms=terms, entry_path=entry, converted=key == "s2")
    pid = str(product_in_stock.pk)
    events = [("ada-phone", "", "Products Searched", {"query": "skillet"}),
              ("ada-phone", "", "Product Viewed", {"product_id": pid, "name": "Skillet"}),
              ("", me, "Products Searched", {"query": "skillet"}),
              ("", me, "Product Viewed", {"product_id": pid}),
              ("", me, "Product Viewed", {"product_id": pid}),
              ("guest-laptop", "", "Products Searched", {"query": "dutch oven"}),
              ("guest-laptop", "", "Product Viewed", {"product_id": "999", "name": "Old Pan"}),
              ("stranger", "", "Products Searched", {"query": "secret"})]
    for n, (anonymous, user_id, name, properties) in enumerate(events):
        Event.objects.create(message_id=f"e{n}", type="track", event=name, anonymous_id=anonymous, user_id=user_id,
                             timestamp=T0 + timedelta(minutes=n), received_at=T0, source="server",
                             properties=properties)
    return Profile.objects.create(person_key=me, user=user, email=user.email)


def test_the_customers_own_analytics(ada):
    a = customer_analytics(ada)
    assert (a["sessions"], a["converted_sessions"], a["time_on_site"]) == (3, 1, timedelta(minutes=30))
    assert a["average_time"] == timedelta(minutes=10) and a["average_pages"] == pytest.approx(11 / 3)
    assert [(r["search_terms"], r["source"], r["times"]) for r in a["external_searches"]] == [
        ("cast iron skillet", "google", 1)]
    assert [(r["query"], r["times"]) for r in a["internal_searches"]] == [("skillet", 2), ("dutch oven", 1)]
    assert [(r["title"], r["views"]) for r in a["viewed_products"]] == [("Cast Iron Skillet 26cm", 3), ("Old Pan", 1)]
    assert {(r["source"], r["medium"], r["visits"], r["orders"]) for r in a["sources"]} == {
        ("google", "organic", 1, 0), ("newsletter", "email", 1, 1), ("direct", "none", 1, 0)}
    assert {r["entry_path"] for r in a["entry_points"]} == {"/catalogue/skillet/", "/", "/basket/"}
    assert [s.key for s in a["recent_sessions"]] == ["s3", "s2", "s1"]
    assert a["chart"]["minutes"] == [10.0, 20.0, 0.0] and a["chart"]["pages"] == [4, 6, 1]


def test_the_analytics_tab_on_the_card(ada, make_staff):
    client = Client()
    client.force_login(make_staff("s@example.com", group=SUPPORT))
    page = client.get(f"/dashboard/customers/support-desk/{ada.pk}/", {"tab": "analytics"})
    html = page.content.decode()
    assert page.status_code == 200 and 'href="?tab=analytics"' in html
    for text in ("cast iron skillet", "dutch oven", "Cast Iron Skillet 26cm", "Old Pan", "newsletter / email",
                 "/catalogue/skillet/", "10 min 00 s", "30 min 00 s", "customer-sessions-chart"):
        assert text in html, text
    assert "secret" not in html


def test_a_customer_with_no_visits(make_staff):
    profile = Profile.objects.create(person_key="email:new@example.com", email="new@example.com")
    a = customer_analytics(profile)
    assert (a["sessions"], a["average_time"], a["average_pages"], a["viewed_products"]) == (0, None, None, [])
    client = Client()
    client.force_login(make_staff("s@example.com", group=SUPPORT))
    html = client.get(f"/dashboard/customers/support-desk/{profile.pk}/", {"tab": "analytics"}).content.decode()
    assert "No sessions." in html and '<canvas id="customer-sessions-chart"' not in html
