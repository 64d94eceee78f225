"""A merchandiser pins a product from the dashboard, picking it with Oscar's product search
(select2 over the catalogue lookup), in headless Chromium."""

import os
from decimal import Decimal

import pytest
from django.db import connection

from recommender.models import MerchandisingRule
from shop.roles import MARKETING
from tests.browser.conftest import CHROMIUM, log_in

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def test_a_marketer_pins_a_product_found_by_searching(browser, live_server, make_staff):
    from oscar.test.factories import create_product

    make_staff("marketer@example.com", group=MARKETING, password="pw-12345!")
    kettle = create_product(title="Copper kettle", upc="KETTLE", price=Decimal("30"), num_in_stock=3)
    create_product(title="Tea cosy", upc="COSY", price=Decimal("9"), num_in_stock=3)
    page = browser.new_page()
    try:
        log_in(page, live_server.url, "marketer@example.com")
        page.goto(f"{live_server.url}/dashboard/recommender/merchandising/")
        page.click("text=Pin a product")
        page.wait_for_url("**/merchandising/new/?action=pin")
        page.click("#id_product + .select2 .select2-selection")
        page.fill(".select2-search__field", "kett")
        page.click(".select2-results__option:has-text('Copper kettle')")
        page.select_option("#id_slot", "upsell")
        page.fill("#id_position", "2")
        page.click("#rule-form button[type=submit]")
        page.wait_for_url("**/merchandising/")
        assert "Copper kettle" in page.content() and "upsell" in page.content()
    finally:
        page.close()
        connection.close()
    rule = MerchandisingRule.objects.get()
    assert (rule.action, rule.product_id, rule.slot, rule.position) == ("pin", kettle.pk, "upsell", 2)
