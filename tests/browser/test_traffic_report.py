"""The traffic and campaigns report in headless Chromium: both charts draw without a script
error, and a marketer enters a campaign cost in the form and sees its ROI."""

import os
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ecrm.models import CampaignCost
from shop.roles import MARKETING
from tests.browser.conftest import CHROMIUM, log_in
from tests.ecrm.test_traffic import script, send

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]
REPORT = "/dashboard/customers/support-desk/reports/traffic/"


def test_traffic_charts_draw_and_a_cost_is_entered(browser, live_server, make_staff, product_in_stock):
    make_staff("marketer@example.com", group=MARKETING, password="pw-12345!")
    send(*script(str(product_in_stock.pk), str(product_in_stock.pk)))
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    page, errors = browser.new_page(), []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(page, live_server.url, "marketer@example.com")
        page.goto(f"{live_server.url}{REPORT}?dimension=campaign")
        page.wait_for_load_state("load")
        for canvas in ("traffic-chart", "traffic-daily-chart"):
            assert page.evaluate(f"!!Chart.getChart(document.getElementById('{canvas}'))"), canvas
        page.fill("#id_campaign", "spring")
        page.fill("#id_starts_on", day)
        page.fill("#id_ends_on", day)
        page.fill("#id_cost", "40")
        page.click("button:has-text('Save')")
        page.wait_for_url("**/reports/traffic/?dimension=campaign*")
        content = page.content()
        assert "Cost of spring" in content and "150 %" in content and "2.50" in content
        assert errors == []
    finally:
        page.close()
        connection.close()
    assert CampaignCost.objects.get().entered_by.email == "marketer@example.com"
