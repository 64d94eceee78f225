"""A marketer builds a segment without writing code: the builder in headless Chromium."""

import os

import pytest
from django.db import connection

from ecrm.models import Profile, Segment
from shop.roles import MARKETING
from tests.browser.conftest import CHROMIUM, log_in

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def test_builder_shows_a_live_count_and_saves_the_rules(browser, live_server, make_staff):
    make_staff("marketer@example.com", group=MARKETING, password="pw-12345!")
    for number, orders in enumerate([0, 1, 3, 5]):
        Profile.objects.create(person_key=f"email:c{number}@example.com", email=f"c{number}@example.com",
                               order_count=orders)
    Profile.objects.get(email="c0@example.com").tags.add("VIP")
    page = browser.new_page()
    try:
        log_in(page, live_server.url, "marketer@example.com")
        page.goto(f"{live_server.url}/dashboard/customers/support-desk/segments/new/")
        page.fill("#id_name", "Repeat buyers")
        # Condition: profile → order_count at least 3.
        page.select_option("#segment-builder select[aria-label='condition type']", "attribute")
        page.select_option("#segment-builder select[aria-label='attribute']", "order_count")
        page.select_option("#segment-builder select[aria-label='comparison']", "gte")
        page.fill("#segment-builder input[aria-label='value']", "3")
        page.wait_for_function("document.getElementById('segment-count').textContent.startsWith('2 customers')")
        page.fill("#segment-builder input[aria-label='value']", "1")
        page.wait_for_function("document.getElementById('segment-count').textContent.startsWith('3 customers')")
        page.fill("#segment-builder input[aria-label='value']", "3")
        page.wait_for_function("document.getElementById('segment-count').textContent.startsWith('2 customers')")
        # Match any: ... or a nested group "tagged VIP".
        page.select_option("#segment-builder select[aria-label='group']", "any")
        page.click("#segment-builder button:has-text('+ group')")
        page.fill("#segment-builder input[aria-label='tag']", "VIP")
        page.wait_for_function("document.getElementById('segment-count').textContent.startsWith('3 customers')")
        page.click("#segment-form button[type=submit]")
        page.wait_for_url("**/segments/*/")
        assert "3 members" in page.content()
    finally:
        page.close()
        connection.close()
    segment = Segment.objects.get(name="Repeat buyers")
    assert segment.rules == {"any": [{"attribute": "order_count", "op": "gte", "value": 3},
                                     {"any": [{"tag": "VIP"}]}]}
    assert segment.member_count == 3
