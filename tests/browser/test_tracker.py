"""The browser tracker in headless Chromium against a running store."""

import os
import time

import pytest
from django.db import connection

from tests.browser.conftest import CHROMIUM, HUMAN, log_in
from tracking.consumer import consume_once, ensure_group
from tracking.models import Event

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def _stored(predicate, timeout=20.0):
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while consume_once("browser-test", block_ms=100):
                pass
            found = [e for e in Event.objects.all() if predicate(e)]
            if found:
                return found
            time.sleep(0.2)
        return []
    finally:
        # Under Playwright the test body runs in another context than the fixtures, so
        # Django gives it its own connection, which nothing else would close; left open,
        # it stops pytest-django from dropping the test database.
        connection.close()


def test_page_view_and_slot_click_are_recorded(browser, live_server, site_pages, stream_name,
                                                 product_in_stock):
    ensure_group()
    # Headless Chromium says so in its user agent, and robots are filtered out: look human.
    page = browser.new_page(user_agent=HUMAN)
    page.goto(f"{live_server.url}/?utm_source=newsletter&utm_medium=email&utm_campaign=winter")
    anonymous_id = page.evaluate("window.ecrm.anonymousId")
    views = _stored(lambda e: e.type == "page" and e.anonymous_id == anonymous_id)
    assert views, "no page view arrived"
    view = views[0]
    assert view.source == "browser"
    assert view.context["page"]["path"] == "/"
    assert view.context["campaign"] == {"source": "newsletter", "medium": "email", "name": "winter"}
    assert view.session_id  # sessionised by the consumer

    # A recommendation slot (the storefront issue renders real ones) carries its token.
    page.evaluate("""() => { const a = document.createElement('a'); a.href = '/catalogue/';
        a.dataset.ecrmToken = 'tok-123'; a.dataset.ecrmProduct = '7'; a.textContent = 'slot';
        a.id = 'slot'; document.body.prepend(a); }""")
    page.click("#slot")
    page.wait_for_url("**/catalogue/")
    clicks = _stored(lambda e: e.event == "Product Clicked")
    assert clicks and clicks[0].properties["token"] == "tok-123"
    # Leaving a page sends the time spent on it, by beacon, as the page goes away.
    left = _stored(lambda e: e.event == "Page Left" and e.properties.get("path") == "/")
    assert left and left[0].anonymous_id == anonymous_id
    assert isinstance(left[0].properties["seconds_on_page"], int)

    # The server's own Product Viewed and the browser's events share the visitor.
    page.goto(f"{live_server.url}{product_in_stock.get_absolute_url()}")
    viewed = _stored(lambda e: e.event == "Product Viewed")
    assert viewed and viewed[0].anonymous_id == anonymous_id
    # The shopper adds it to the basket with the product page's own button.
    page.click("#add_to_basket_form button[type=submit]")
    page.wait_for_load_state()
    added = _stored(lambda e: e.event == "Product Added")
    assert added and added[0].anonymous_id == anonymous_id
    assert added[0].properties["sku"] == "TEST-SKILLET-26" and added[0].properties["cart_id"]
    # Counted once: the browser does not report what the server already did.
    assert len(_stored(lambda e: e.event == "Product Added", timeout=1)) == 1


def test_logging_in_stitches_the_browsing_before_it(browser, live_server, site_pages, stream_name):
    from django.contrib.auth import get_user_model

    from tracking.graph import events_of_user

    ensure_group()
    user = get_user_model().objects.create_user(
        username="ada", email="ada@example.com", password="correct-horse-battery-9")
    page = browser.new_page(user_agent=HUMAN)
    page.goto(f"{live_server.url}/delivery/")
    anonymous_id = page.evaluate("window.ecrm.anonymousId")
    assert _stored(lambda e: e.type == "page" and e.anonymous_id == anonymous_id)
    log_in(page, live_server.url, "ada@example.com", "correct-horse-battery-9")
    page.goto(f"{live_server.url}/about/")
    # After login the tracker sends her user id, with the same anonymous id as before.
    after = _stored(lambda e: e.type == "page" and e.user_id == str(user.pk))
    assert after and after[0].anonymous_id == anonymous_id
    history = events_of_user(str(user.pk))
    paths = {e.context.get("page", {}).get("path") for e in history if e.type == "page"}
    assert {"/delivery/", "/about/"} <= paths  # what she browsed before logging in is hers
    assert history.filter(type="identify").exists()


def test_global_privacy_control_stops_the_tracker(browser, live_server, site_pages, stream_name):
    ensure_group()
    context = browser.new_context(user_agent=HUMAN)
    context.add_init_script(
        "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})")
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.wait_for_load_state("networkidle")
    assert _stored(lambda e: e.source == "browser", timeout=3) == []
