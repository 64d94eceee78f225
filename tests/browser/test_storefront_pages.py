"""Oscar's pages with the personal parts, in headless Chromium against a running store: the
greeting by name, "Complete your order" in the basket and a click on it recorded with its
token, re-ordering from the account, a segment's offer in a member's basket, and recently
viewed products. Screenshots of a product page and the basket go to docs/screenshots/
when UPDATE_SCREENSHOTS=1 (to a temporary folder otherwise)."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from django.contrib.auth import get_user_model
from django.db import connection

from recommender.tokens import read_token
from recommender.training import train_version
from tests.browser.conftest import CHROMIUM, HUMAN, log_in
from tests.browser.test_tracker import _stored
from tests.helpers import place_order
from tracking.consumer import ensure_group

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("isolated"),
]
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TITLES = {"tea": "Breakfast tea, 250 g", "green-tea": "Sencha green tea", "cup": "Stoneware tea cup",
          "mug": "Enamel camping mug", "teapot": "Cast iron teapot", "saucer": "Porcelain saucer"}


@pytest.fixture
def screenshots(tmp_path):
    return DOCS_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def named_shop(shop):
    """The recommender's shop with titles a shopper would read, trained and serving."""
    products, users = shop
    for name, product in products.items():
        product.title = TITLES[name]
        product.save()
    users[2].first_name = "Ada"
    users[2].save()
    train_version()
    return products, users


def _page(browser):
    return browser.new_page(user_agent=HUMAN, viewport={"width": 1280, "height": 900})


def test_the_basket_completes_the_order_and_a_click_is_recorded_with_its_token(
        browser, live_server, site_pages, stream_name, named_shop, screenshots):
    products, users = named_shop
    ensure_group()
    page = _page(browser)
    try:
        log_in(page, live_server.url, users[2].email, "pw")
        assert page.inner_text("#customer-greeting").strip() == "Hello, Ada"
        page.goto(f"{live_server.url}{products['tea'].get_absolute_url()}")
        page.click("#add_to_basket_form button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/basket/")
        slot = page.locator("section.ecrm-slot", has_text="Complete your order")
        assert slot.count() == 1
        page.screenshot(path=str(screenshots / "basket.png"), full_page=True)
        link = slot.locator("a[data-ecrm-token]").first
        token, product_id = link.get_attribute("data-ecrm-token"), link.get_attribute("data-ecrm-product")
        assert read_token(token)["slot"] == "complete_order" and product_id != str(products["tea"].pk)
        link.click()
        page.wait_for_load_state()
        clicks = _stored(lambda e: e.event == "Product Clicked")
        assert clicks and clicks[0].properties["token"] == token and clicks[0].user_id == str(users[2].pk)
    finally:
        page.close()
        connection.close()


def test_recently_viewed_follows_an_anonymous_visitors_browsing(browser, live_server, site_pages, stream_name,
                                                                named_shop, screenshots):
    products, _users = named_shop
    ensure_group()
    page = _page(browser)
    try:
        for name in ("mug", "green-tea"):
            page.goto(f"{live_server.url}{products[name].get_absolute_url()}")
            anonymous_id = page.evaluate("window.ecrm.anonymousId")
            assert _stored(lambda e, p=products[name]: e.event == "Product Viewed"
                           and e.properties.get("product_id") == str(p.pk) and e.anonymous_id == anonymous_id)
        page.goto(f"{live_server.url}{products['tea'].get_absolute_url()}")
        # The page is the one anonymous visitors share; deferred.js swaps in the visitor's own list.
        recent = page.locator("section.ecrm-slot", has_text="Recently viewed").locator("a[data-ecrm-token]")
        expect(recent).to_have_text([TITLES["green-tea"], TITLES["mug"]])
        page.screenshot(path=str(screenshots / "product-page.png"), full_page=True)
    finally:
        page.close()
        connection.close()


def test_reorder_from_the_account_puts_the_lines_in_the_basket(browser, live_server, site_pages):
    from oscar.test.factories import create_product

    customer = get_user_model().objects.create_user("ada", "ada@example.com", "pw-12345!", first_name="Ada")
    kettle = create_product(title="Copper kettle", upc="KETTLE", price=Decimal("30"), num_in_stock=5)
    tea = create_product(title="Breakfast tea", upc="TEA", price=Decimal("4"), num_in_stock=0)
    order = place_order(kettle, tea, user=customer)
    tea.stockrecords.update(num_in_stock=0)
    page = _page(browser)
    try:
        log_in(page, live_server.url, "ada@example.com")
        page.goto(f"{live_server.url}/accounts/orders/")
        page.click(f"#reorder_{order.number} button[type=submit]")
        page.wait_for_url("**/basket/")
        assert "Copper kettle" in page.inner_text("#content_inner")
        alerts = page.inner_text("#messages")
        assert f"1 item from order {order.number} is in your basket." in alerts
        assert "Could not be added" in alerts and "Breakfast tea" in alerts
    finally:
        page.close()
        connection.close()


def test_a_segments_offer_applies_in_a_members_basket(browser, live_server, site_pages):
    from oscar.core.loading import get_model
    from oscar.test.factories import create_offer, create_product

    from ecrm.models import Profile, Segment, SegmentOffer
    from ecrm.segments import static_members_set

    ConditionalOffer = get_model("offer", "ConditionalOffer")
    member = get_user_model().objects.create_user("vip", "vip@example.com", "pw-12345!")
    segment = Segment.objects.create(name="VIP", kind=Segment.STATIC)
    static_members_set(segment, {Profile.objects.create(person_key=str(member.pk), user=member).pk})
    SegmentOffer.objects.create(offer=create_offer(name="VIPs: 20% off", offer_type=ConditionalOffer.USER),
                                segment=segment)
    kettle = create_product(title="Copper kettle", upc="KETTLE", price=Decimal("50"), num_in_stock=5)
    page = _page(browser)
    try:
        log_in(page, live_server.url, "vip@example.com")
        page.goto(f"{live_server.url}{kettle.get_absolute_url()}")
        page.click("#add_to_basket_form button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/basket/")
        totals = page.inner_text("#basket_totals")
        assert "VIPs: 20% off" in totals and "£40.00" in totals
    finally:
        page.close()
        connection.close()
