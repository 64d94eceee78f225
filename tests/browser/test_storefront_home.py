"""The personalised home page in headless Chromium against a running store: what an anonymous
visitor, the same visitor after browsing, and a signed-in customer see; a banner targeted at a
segment; a click on a recommendation recorded with its token."""

import os
from pathlib import Path

import pytest
from django.db import connection

from recommender.tokens import read_token
from tests.browser.conftest import CHROMIUM, HUMAN, log_in
from tests.browser.test_tracker import _stored
from tests.shop.test_home_page import _arrange, _every_block
from tracking.consumer import ensure_group

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("isolated"),
    pytest.mark.slow,
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _slot(page, slot):
    """(heading, product titles) of a slot as the visitor sees it now."""
    section = page.locator(f'section[data-ecrm-slot-name="{slot}"]')
    return section.get_attribute("aria-label"), section.locator("h3").all_inner_texts()


def _personalised(page, url):
    """Open ``url`` and wait until the page's deferred blocks are the visitor's own."""
    page.goto(url)
    page.wait_for_selector("html[data-ecrm-personalised]")


@pytest.fixture
def storefront(shop, site_pages, stream_name):
    from ecrm.models import Segment
    from recommender.training import train_version

    products, users = shop
    train_version()
    vip = Segment.objects.create(name="VIP", kind=Segment.STATIC)
    _arrange(_every_block(segment=vip))
    ensure_group()
    connection.close()
    return products, users, vip


def test_an_anonymous_visitor_sees_popular_items_then_their_own_after_browsing(browser, live_server, storefront):
    products, _users, _vip = storefront
    page = browser.new_page(user_agent=HUMAN, viewport={"width": 1280, "height": 900})
    try:
        _personalised(page, f"{live_server.url}/")
        heading, popular = _slot(page, "for_you")
        assert heading == "Popular right now" and len(popular) == 4
        assert _slot(page, "recently_viewed")[0] == "Popular right now"
        page.screenshot(path=str(SCREENSHOTS / "home-anonymous.png"), full_page=True)

        for name in ("cup", "green-tea"):  # the server records each view; the consumer stores it
            page.goto(f"{live_server.url}{products[name].get_absolute_url()}")
        assert len(_stored(lambda e: e.event == "Product Viewed")) >= 2
        _personalised(page, f"{live_server.url}/")
        assert _slot(page, "recently_viewed") == ("Recently viewed", ["green-tea", "cup"])
        heading, own = _slot(page, "for_you")
        assert heading == "Recommended for you" and own != popular
        assert page.locator('section[data-ecrm-slot-name="for_you"] .ecrm-because').count() >= 1

        link = page.locator('section[data-ecrm-slot-name="for_you"] a[data-ecrm-token]').first
        token, product_id = link.get_attribute("data-ecrm-token"), link.get_attribute("data-ecrm-product")
        link.click()
        page.wait_for_url("**/catalogue/**")
        clicks = _stored(lambda e: e.event == "Product Clicked")
        assert clicks and clicks[0].properties["token"] == token
        assert read_token(token)["slot"] == "for_you" and read_token(token)["product_id"] == product_id
    finally:
        page.close()
        connection.close()


def test_a_signed_in_customer_sees_their_own_blocks_and_the_banner_of_their_segment(browser, live_server,
                                                                                   storefront):
    from ecrm.models import Profile
    from ecrm.segments import static_members_set

    _products, users, vip = storefront
    page = browser.new_page(user_agent=HUMAN, viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{live_server.url}/")
        assert _slot(page, "buy_again")[0] == "Customers' favourites"  # nobody's purchases yet
        log_in(page, live_server.url, users[1].email, "pw")
        page.goto(f"{live_server.url}/")
        heading, titles = _slot(page, "buy_again")
        assert heading == "Buy again" and titles[0] == "tea"  # what they buy, again
        assert page.locator("[data-ecrm-deferred-url]").count() == 0  # their page is theirs in one request
        hero = page.locator(".ecrm-hero")
        assert hero.get_attribute("data-ecrm-variant") == "default" and "Made for the way you live" in hero.inner_text()

        static_members_set(vip, {Profile.objects.create(person_key=str(users[1].pk), user=users[1]).pk})
        connection.close()
        page.reload()
        hero = page.locator(".ecrm-hero")
        assert hero.get_attribute("data-ecrm-variant") == str(vip.pk) and "Welcome back, VIP" in hero.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "home-signed-in.png"), full_page=True)
    finally:
        page.close()
        connection.close()
