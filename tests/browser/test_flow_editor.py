"""A marketer builds a flow in the dashboard, in headless Chromium: create it from a
trigger's template, change a step into an SMS (the form shows only that kind's fields),
see a loop refused, and activate it."""

import os

import pytest

from campaigns.flow_models import Flow
from shop.roles import MARKETING
from tests.browser.conftest import CHROMIUM, log_in

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def test_a_marketer_builds_and_activates_a_flow(browser, live_server, make_staff, settings, tmp_path):
    from oscar.core.loading import get_model

    settings.CAMPAIGNS_TRIGGER_MODULES = ["tests.campaigns.flow_triggers"]
    get_model("communication", "CommunicationEventType").objects.create(
        code="WINTER_NEWS", name="Winter news", email_subject_template="News", email_body_template="Hello")
    make_staff("marketer@example.com", group=MARKETING, password="pw-12345!")
    page = browser.new_page()
    try:
        log_in(page, live_server.url, "marketer@example.com")
        page.goto(f"{live_server.url}/dashboard/campaigns/flows/")
        page.click("text=New flow")
        page.click(".card:has-text('Test: basket left') button:has-text('Create this flow')")
        page.wait_for_selector("text=Draft flow")
        flow = Flow.objects.get()
        # The second step (a voucher) becomes an SMS: only the SMS text is asked for.
        page.click("table tr:nth-child(2) a:has-text('Edit')")
        assert page.is_visible("#id_percent") and not page.is_visible("#id_text")
        page.select_option("#id_kind", "sms")
        assert page.is_visible("#id_text") and not page.is_visible("#id_percent")
        assert not page.is_visible("#id_template") and not page.is_visible("#id_else_target")
        page.fill("#id_text", "Hi {{ customer.first_name }}, your basket misses you")
        page.click("text=Save step")
        page.wait_for_selector("text=Step saved.")
        assert [s.kind for s in flow.steps_in_order()] == ["email", "sms", "email"]
        # A condition at the end whose "no" goes back to the first step: refused.
        page.click("text=Add a step")
        page.select_option("#id_kind", "condition")
        page.fill("#id_rule", '{"orders": {"op": "eq", "count": 0, "within_days": 7}}')
        page.select_option("#id_else_target", label="Step 1 (send e-mail)")
        page.click("text=Save step")
        page.wait_for_selector("text=This flow cannot be activated yet")
        page.screenshot(path=str(tmp_path / "flow-loop.png"), full_page=True)
        page.click("button:has-text('Activate')")
        page.wait_for_selector("text=The flow cannot be activated: The flow loops")
        flow.refresh_from_db()
        assert flow.status == Flow.DRAFT
        # Deleting the condition makes it sound; then it activates.
        page.click("table tr:nth-child(4) button:has-text('Delete')")
        page.wait_for_selector("text=Step deleted")
        page.click("button:has-text('Activate')")
        page.wait_for_selector("text=is active")
        flow.refresh_from_db()
        assert flow.status == Flow.ACTIVE
        page.screenshot(path=os.environ.get("FLOW_SCREENSHOT", str(tmp_path / "flow.png")), full_page=True)
    finally:
        page.close()
