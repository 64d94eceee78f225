"""A marketer edits an e-mail design in Wagtail's editor (its live preview panel renders the
e-mail), then previews it in the dashboard as a customer found by search, sends herself a
test and opens it under Dashboard → Campaigns → Sent mail, in headless Chromium.
With SCREENSHOTS=1 it also writes docs/screenshots/email-design-preview.png."""

import os
from pathlib import Path

import pytest
from django.db import connection

from shop.roles import MARKETING
from tests.browser.conftest import CHROMIUM, log_in

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]
SUBJECT = "{{ customer.first_name|default:'Hello' }}, gifts for everyone"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "email-design-preview.png"


def test_a_marketer_edits_a_design_and_previews_it_as_a_customer(browser, live_server, site_pages, shop,
                                                                settings, make_staff, tmp_path):
    from campaigns.design_setup import starter_designs_ensure
    from campaigns.designs_models import EmailDesign
    from ecrm.services import profiles_refresh
    from recommender.training import train_version

    settings.CAMPAIGNS_BASE_URL = settings.RECOMMENDER_EMAIL_BASE_URL = live_server.url
    settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = "campaigns.sent_mail.FolderEmailBackend", str(tmp_path)
    products, users = shop
    users[0].first_name, users[0].last_name = "Grace", "Hopper"
    users[0].save()
    profiles_refresh(person_keys={str(users[0].pk)})
    train_version()
    starter_designs_ensure()
    design = EmailDesign.objects.get(slug="gift-guide")
    make_staff("marketer@example.com", group=MARKETING)
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        log_in(page, live_server.url, "marketer@example.com")
        # Wagtail: the editor shows the blocks; the live preview panel renders the e-mail.
        page.goto(f"{live_server.url}/cms/snippets/campaigns/emaildesign/edit/{design.pk}/")
        assert page.locator("text=Personal recommendations").first.is_visible()
        page.fill("#id_subject", SUBJECT)
        page.click("button[data-side-panel-toggle='preview']")
        frame = page.frame_locator("#w-preview-iframe")
        frame.locator("h2:has-text('Gifts they will actually use')").wait_for(timeout=15_000)
        # The panel follows the unsaved form: the new subject is the e-mail's <title>.
        for _ in range(30):
            if "gifts for everyone" in (frame.locator("title").text_content() or ""):
                break
            page.wait_for_timeout(500)
        assert frame.locator("title").text_content().endswith(", gifts for everyone")
        page.click("button.action-save")  # save draft
        page.wait_for_load_state()
        design.refresh_from_db()
        assert design.has_unpublished_changes  # a draft: what is sent stays the published version
        assert design.subject == '{{ customer.first_name|default:"Hello" }}, your gift guide is here'
        assert design.get_latest_revision_as_object().subject == SUBJECT
        # Dashboard: find a customer, preview the draft as her.
        page.goto(f"{live_server.url}/dashboard/campaigns/designs/{design.pk}/preview/")
        page.fill("#id_q", "Hopper")
        page.click("#preview-form button[type=submit]")
        page.click("#found-customers a:has-text('Grace Hopper')")
        page.check("#id_draft")
        page.click("#preview-form button.btn-primary")
        page.wait_for_load_state()
        assert page.inner_text("#preview-subject") == "Grace, gifts for everyone"
        mail = page.frame_locator("#preview-frame")
        assert mail.locator("text=Hi Grace, we looked at what you like").count() == 1
        assert mail.locator("a:has-text('tea')").count() >= 1  # her recommendations
        if os.environ.get("SCREENSHOTS") == "1":
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        # Send herself a test; the demo's folder backend keeps it for Dashboard → Campaigns → Sent mail.
        page.click("#test-form button[type=submit]")
        page.wait_for_load_state()
        assert "sent to marketer@example.com" in page.inner_text(".alert-success")
        page.click("a.dropdown-toggle:has-text('Campaigns')")
        page.click("a.dropdown-item:has-text('Sent mail')")
        page.click("a:has-text('[Test] Grace, gifts for everyone')")
        sent = page.frame_locator("#mail-frame")
        assert sent.locator("text=Hi Grace, we looked at what you like").count() == 1
        assert "List-Unsubscribe-Post" in page.inner_text("#mail-headers")
    finally:
        page.close()
        connection.close()



def test_a_marketer_composes_a_design_with_a_chosen_product(browser, live_server, site_pages, make_staff, settings,
                                                             product_in_stock):
    from campaigns.designs_models import EmailDesign

    settings.CAMPAIGNS_BASE_URL = settings.RECOMMENDER_EMAIL_BASE_URL = live_server.url
    make_staff("marketer@example.com", group=MARKETING)
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        log_in(page, live_server.url, "marketer@example.com")
        page.goto(f"{live_server.url}/cms/")
        page.click(".sidebar-menu-item__link:has-text('E-mail designs')")
        page.goto(f"{live_server.url}/cms/snippets/campaigns/emaildesign/add/")
        page.fill("#id_name", "Kitchen news")
        page.fill("#id_slug", "kitchen-news")
        page.fill("#id_subject", "News for {{ customer.first_name|default:'you' }}")
        page.click("button.c-sf-add-button")
        page.click("text=Product grid")
        page.fill("input[id$='-value-heading']", "Back in the kitchen")
        page.click("button:has-text('Choose a product')")
        modal = page.locator(".modal")
        modal.locator("input[name=q]").fill("skillet")
        modal.locator("a:has-text('Cast Iron Skillet 26cm')").click()
        page.wait_for_selector(".modal", state="hidden")
        page.click(".w-dropdown__toggle:has-text('More actions')")
        page.click("button:has-text('Publish')")
        page.wait_for_url("**/cms/snippets/campaigns/emaildesign/")
    finally:
        page.close()
        connection.close()
    design = EmailDesign.objects.get(slug="kitchen-news")
    assert design.live and design.body[0].block_type == "product_grid"
    assert [p.pk for p in design.body[0].value["products"]] == [product_in_stock.pk]
