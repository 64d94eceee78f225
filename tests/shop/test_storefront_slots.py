"""The recommendation slots on Oscar's pages: product page (recently viewed), basket
(complete your order, also when Oscar re-renders the basket by AJAX), order confirmation
(post-purchase), the account's profile (for you) — each link with its slot's token — and
a basket click that leads to a purchase showing in the slot report. Real PostgreSQL and
Redis; the shop is the recommender's small trained shop."""

import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from recommender.attribution import slot_report
from recommender.recent import recent_record
from recommender.serving import recommendations_for
from recommender.tokens import read_token
from recommender.training import train_version
from tests.helpers import fetch_deferred, place_order
from tracking.defaults import setting as tracking_setting
from tracking.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]
LINK = re.compile(r'data-ecrm-token="([^"]+)" data-ecrm-product="(\d+)" data-ecrm-slot="(\w+)"')


def _links(html: str, slot: str) -> list[tuple[str, str]]:
    """(token, product id) of the slot's links, each token checked to be the slot's own."""
    found = [(token, product) for token, product, name in LINK.findall(html) if name == slot]
    for token, product in found:
        decoded = read_token(token)
        assert decoded["slot"] == slot and decoded["product_id"] == product
    return found


def _viewed(person: str, *products) -> None:
    """What tracking's receiver pushes when the person's "Product Viewed" events are stored."""
    now = time.time()
    recent_record({person: [(now - i, f"{product.pk}|view|{int(now - i)}") for i, product in
                            enumerate(reversed(products))]})


def _browser() -> Client:
    client = Client()
    client.cookies[tracking_setting("TRACKING_ANONYMOUS_COOKIE")] = "visitor-1"  # the tracker's visitor id
    return client


def test_recently_viewed_on_the_product_page_for_an_anonymous_visitor(shop):
    products, _users = shop
    train_version()
    visitor = _browser()
    visitor.get(products["cup"].get_absolute_url())  # Oscar's own history cookie now has the cup
    assert "Recently viewed" not in visitor.get(products["tea"].get_absolute_url()).content.decode()
    _viewed("anon:visitor-1", products["cup"], products["mug"], products["tea"])  # tea: the newest
    html = visitor.get(products["tea"].get_absolute_url()).content.decode()
    assert html.count("<section class=\"ecrm-slot") == 3 and "Products you recently viewed" not in html  # Oscar's list replaced
    # The page anonymous visitors share has the fallback; the visitor's own list comes in its fragment.
    assert "Recently viewed" not in html and "Popular right now" in html
    own = "".join(fetch_deferred(visitor, html).values())
    assert "Recently viewed" in own
    shown = [product for _token, product in _links(own, "recently_viewed")]
    assert shown == [str(products["mug"].pk), str(products["cup"].pk)]  # newest first, not the page's own


def test_recently_viewed_leaves_out_what_cannot_be_bought_and_only_counts_views(shop):
    products, _users = shop
    train_version()
    now = int(time.time())
    recent_record({"anon:v2": [(now - 3, f"{products['teapot'].pk}|view|{now - 3}"),  # sold out
                               (now - 2, f"{products['green-tea'].pk}|add_to_basket|{now - 2}"),
                               (now - 1, f"{products['cup'].pk}|view|{now - 1}")]})
    items = recommendations_for(slot="recently_viewed", person="anon:v2", k=4)
    assert [r.product for r in items] == [products["cup"]] and items[0].source == "recent"
    # Someone who viewed nothing gets popular items (shown under the fallback heading), never mixed in.
    fallback = recommendations_for(slot="recently_viewed", person="anon:nobody", k=4)
    assert fallback and {r.source for r in fallback} == {"popular"}


def test_complete_your_order_on_the_basket_page_and_after_an_ajax_update(shop):
    products, users = shop
    train_version()
    client = Client()
    client.force_login(users[2])  # bought tea, never a cup
    client.post(f"/basket/add/{products['tea'].pk}/", {"quantity": 1})
    page = client.get("/basket/")
    html = page.content.decode()
    assert "Complete your order" in html
    links = _links(html, "complete_order")
    assert links and str(products["tea"].pk) not in [p for _t, p in links]  # not what is in the basket
    # Oscar re-renders the basket's content partial after an AJAX change: the slot is in it.
    fields = dict(re.findall(r'name="(form-[\w-]+)"[^>]*?value="([^"]*)"', html))
    fields.update({"form-0-quantity": "2"})
    response = client.post("/basket/", fields, headers={"x-requested-with": "XMLHttpRequest"})
    assert response.status_code == 200
    assert _links(response.json()["content_html"], "complete_order")


def test_a_basket_click_and_the_purchase_it_leads_to_appear_in_the_slot_report(shop):
    products, users = shop
    version = train_version()
    client = Client()
    client.force_login(users[2])
    client.post(f"/basket/add/{products['tea'].pk}/", {"quantity": 1})
    token, product_id = _links(client.get("/basket/").content.decode(), "complete_order")[0]
    # What the browser tracker sends when the link is clicked (tests/browser covers the browser).
    now = timezone.now()
    Event.objects.create(message_id="basket-click", type="track", event="Product Clicked", user_id=str(users[2].pk),
                         timestamp=now, received_at=now, source="browser", properties={"token": token})
    clicked = next(p for p in products.values() if str(p.pk) == product_id)
    order = place_order(clicked, user=users[2])
    (row,) = [r for r in slot_report(days=1) if r["slot"] == "complete_order"]
    assert row["version"] == version.pk and row["clicks"] == 1 and row["orders"] == 1
    assert row["impressions"] >= 1 and row["revenue"] == float(order.lines.get().line_price_incl_tax)


def test_the_order_confirmation_suggests_what_goes_with_the_order(shop):
    products, users = shop
    train_version()
    order = place_order(products["tea"], user=users[2])
    client = Client()
    client.force_login(users[2])
    session = client.session
    session["checkout_order_id"] = order.pk
    session.save()
    html = client.get("/checkout/thank-you/").content.decode()
    assert "Goes well with your order" in html
    shown = [product for _token, product in _links(html, "post_purchase")]
    assert shown and shown[0] == str(products["cup"].pk)  # bought with tea
    assert str(products["tea"].pk) not in shown


def test_the_account_profile_shows_recommendations_for_the_customer(shop):
    products, users = shop
    train_version()
    client = Client()
    client.force_login(users[0])
    html = client.get("/accounts/profile/").content.decode()
    assert "Recommended for you" in html and _links(html, "for_you")
