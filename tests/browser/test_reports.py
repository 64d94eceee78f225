"""The new report screens in headless Chromium: every chart draws without a script error,
and a marketer saves a funnel and opens it again from the list."""

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from ecrm.models import Profile, SavedFunnel
from shop.roles import MARKETING
from tests.browser.conftest import CHROMIUM, log_in
from tests.helpers import place_order
from tracking.models import Event, Session

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]
DESK = "/dashboard/customers/support-desk/"


def _charts_drawn(page, url, canvases):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_load_state("load")
    for canvas in canvases:
        assert page.evaluate(f"!!Chart.getChart(document.getElementById('{canvas}'))"), (url, canvas)
    assert errors == [], (url, errors)


def test_report_charts_draw_and_a_funnel_is_saved_and_opened(browser, live_server, make_staff, product_in_stock,
                                                              django_user_model):
    make_staff("marketer@example.com", group=MARKETING, password="pw-12345!")
    now = timezone.now()
    ada = django_user_model.objects.create_user(username="ada", email="ada@example.com")
    place_order(product_in_stock, user=ada, placed_at=now - timedelta(days=40))
    place_order(product_in_stock, user=ada, placed_at=now - timedelta(days=3))
    place_order(product_in_stock, guest_email="bea@example.com", placed_at=now - timedelta(days=2))
    profile = Profile.objects.create(person_key=str(ada.pk), user=ada, revenue=Decimal("69.98"))
    Session.objects.create(key="s1", visitor=str(ada.pk), user_id=str(ada.pk), started_at=now - timedelta(hours=2),
                           last_event_at=now - timedelta(hours=1), page_count=5, device="mobile")
    Event.objects.create(message_id="e1", type="track", event="Product Viewed", user_id=str(ada.pk), session_id="s1",
                         timestamp=now - timedelta(hours=2), received_at=now, source="server",
                         properties={"product_id": str(product_in_stock.pk)})
    page = browser.new_page()
    try:
        log_in(page, live_server.url, "marketer@example.com")
        _charts_drawn(page, f"{live_server.url}{DESK}reports/customers/",
                      ["lorenz-chart", "retention-chart", "aov-chart", "segment-chart", "country-chart",
                       "category-chart", "band-chart"])
        _charts_drawn(page, f"{live_server.url}{DESK}{profile.pk}/?tab=analytics", ["customer-sessions-chart"])
        _charts_drawn(page, f"{live_server.url}{DESK}reports/funnel/?split=device", ["funnel-chart"])
        page.fill("#id_steps", "session\nProduct Viewed")
        page.click("button:has-text('Show')")
        page.wait_for_load_state()
        page.fill("#id_name", "Browsing")
        page.click("button:has-text('Save funnel')")
        page.wait_for_url("**/reports/funnel/?funnel=*")
        assert "Saved funnel <strong>Browsing</strong>" in page.content()
        page.goto(f"{live_server.url}{DESK}reports/funnel/")
        page.select_option("#id_funnel", label="Browsing")
        page.click("button:has-text('Open')")
        page.wait_for_load_state()
        assert page.input_value("#id_steps") == "session\nProduct Viewed"
    finally:
        page.close()
        connection.close()
    assert SavedFunnel.objects.get(name="Browsing").steps == [{"session": True}, {"event": "Product Viewed"}]
