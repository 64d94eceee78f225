"""A link from an e-mail block lands with its token in the URL; the browser tracker
reports it as "Product Clicked" and takes it out of the address bar."""

import os

import pytest

from tests.browser.conftest import CHROMIUM, HUMAN
from tests.browser.test_tracker import _stored

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def test_landing_from_an_email_link_reports_the_click_once(browser, live_server, site_pages, stream_name,
                                                           product_in_stock):
    from tracking.consumer import ensure_group

    ensure_group()
    page = browser.new_page(user_agent=HUMAN)
    page.goto(f"{live_server.url}{product_in_stock.get_absolute_url()}?utm_source=email&ecrm_token=tok-mail-1")
    clicks = _stored(lambda e: e.event == "Product Clicked")
    assert len(clicks) == 1 and clicks[0].properties["token"] == "tok-mail-1"
    assert "ecrm_token" not in page.url and "utm_source=email" in page.url
    page.reload()
    page.wait_for_load_state()
    assert len(_stored(lambda e: e.event == "Product Clicked", timeout=2)) == 1  # a reload does not repeat it
