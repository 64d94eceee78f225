"""Campaigns → Flows in the dashboard: create from a trigger's template, edit steps, refused
activation of a flow with a loop, an unreachable step, an unknown field or a missing
template; who may do what, CSRF; the card's Flows tab and the data export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from campaigns.flow_models import Flow, FlowEnrolment, FlowStep
from tests.campaigns.flow_helpers import BASE, basket_of, make_customer, make_flow, tick

pytestmark = pytest.mark.django_db
BASKET_STEPS = [{"kind": "email", "wait_hours": 4, "config": {"template": "FLOW_BASKET"}}]


@pytest.fixture
def marketer(make_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    return client


def _post(client, url, data=None, *, page=None):
    """POST with the CSRF token of ``page`` (or of ``url`` fetched first)."""
    token = client.get(page or url).context["csrf_token"]
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": str(token)})


def test_a_marketer_creates_a_flow_from_a_template_and_activates_it(flow_settings, flow_template, marketer):
    from oscar.core.loading import get_model

    get_model("communication", "CommunicationEventType").objects.create(
        code="WINTER_NEWS", name="Winter news", email_subject_template="News", email_body_template="Hello")
    page = marketer.get("/dashboard/campaigns/flows/new/").content.decode()
    assert "Test: basket left" in page and "Test: signed up" in page
    response = _post(marketer, "/dashboard/campaigns/flows/new/", {"trigger": "test_basket"})
    flow = Flow.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboard/campaigns/flows/{flow.pk}/"
    assert (flow.status, flow.topic, flow.exits, flow.trigger_settings) == (
        Flow.DRAFT, "offers", ["order_placed", "basket_emptied", "unsubscribed"], {"idle_hours": 1})
    assert [(s.kind, s.wait_hours, s.config) for s in flow.steps_in_order()] == [
        ("email", 4, {"template": "WINTER_NEWS"}), ("voucher", 20, {"percent": 10, "valid_days": 7}),
        ("email", 0, {"template": "WINTER_NEWS"})]
    detail = marketer.get(f"/dashboard/campaigns/flows/{flow.pk}/").content.decode()
    assert "Idle for (hours)" in detail and "cannot be activated" not in detail
    # Settings: the trigger's own parameters are checked by the trigger.
    url = f"/dashboard/campaigns/flows/{flow.pk}/"
    form = {"name": "Basket rescue", "topic": "offers", "reentry": "each", "reentry_days": 0,
            "holdout_percent": 20, "exits": ["order_placed"], "trigger_idle_hours": 0}
    refused = _post(marketer, url, form)
    assert refused.status_code == 200 and "greater than or equal to 1" in refused.content.decode()
    assert _post(marketer, url, {**form, "trigger_idle_hours": 3}).status_code == 302
    flow.refresh_from_db()
    assert (flow.name, flow.holdout_share, flow.trigger_settings, flow.exits) == (
        "Basket rescue", 0.2, {"idle_hours": 3}, ["order_placed"])
    assert _post(marketer, f"{url}activate/", page=url).status_code == 302
    flow.refresh_from_db()
    assert flow.status == Flow.ACTIVE
    # An active flow cannot be changed until paused.
    step = flow.steps_in_order()[0]
    response = _post(marketer, f"{url}steps/{step.pk}/delete/", page=url)
    assert response.status_code == 302 and FlowStep.objects.filter(pk=step.pk).exists()
    _post(marketer, f"{url}pause/", page=url)
    flow.refresh_from_db()
    assert flow.status == Flow.PAUSED


def test_a_loop_an_unreachable_step_and_bad_steps_are_refused(flow_settings, flow_template, marketer):
    flow = make_flow("test_basket", [{"kind": "email", "config": {"template": "FLOW_BASKET"}},
                                     {"kind": "wait", "wait_hours": 1}], activate=False)
    first, second = flow.steps_in_order()
    url = f"/dashboard/campaigns/flows/{flow.pk}/"
    # The step form says what is wrong, field by field, and saves nothing.
    bad = _post(marketer, f"{url}steps/new/", {"kind": "condition", "wait_hours": 1,
                                              "rule": json.dumps({"attribute": "shoe_size", "op": "eq", "value": 4})},
                page=f"{url}steps/new/")
    assert bad.status_code == 400 and "unknown attribute &#x27;shoe_size&#x27;" in bad.content.decode()
    missing = _post(marketer, f"{url}steps/new/", {"kind": "email", "wait_hours": 1}, page=f"{url}steps/new/")
    assert missing.status_code == 400 and "It sends an e-mail but names no template." in missing.content.decode()
    nosuch = _post(marketer, f"{url}steps/new/", {"kind": "email", "wait_hours": 1, "template": "NOPE"},
                   page=f"{url}steps/new/")
    assert "There is no e-mail template &#x27;NOPE&#x27;." in nosuch.content.decode()
    nodesign = _post(marketer, f"{url}steps/new/", {"kind": "email", "wait_hours": 1, "template": "design:nope"},
                     page=f"{url}steps/new/")
    assert "There is no published e-mail design &#x27;nope&#x27;." in nodesign.content.decode()
    assert flow.steps.count() == 2
    # A condition whose "no" branch goes back to step 1: a loop.
    response = _post(marketer, f"{url}steps/new/", {
        "kind": "condition", "wait_hours": 24, "next_target": "end", "else_target": str(first.pk),
        "rule": json.dumps({"orders": {"op": "eq", "count": 0, "within_days": 7}})}, page=f"{url}steps/new/")
    assert response.status_code == 302
    page = marketer.get(url).content.decode()
    assert "This flow cannot be activated yet" in page and "The flow loops (step 1 (send e-mail) → step 2" in page
    refused = _post(marketer, f"{url}activate/", page=url)
    assert refused.status_code == 302
    flow.refresh_from_db()
    assert flow.status == Flow.DRAFT
    assert "The flow cannot be activated: The flow loops" in marketer.get(url).content.decode()
    # Step 1 going straight to the end leaves the others unreachable.
    _post(marketer, f"{url}steps/{first.pk}/", {"kind": "email", "wait_hours": 0, "template": "FLOW_BASKET",
                                                "next_target": "end"}, page=f"{url}steps/{first.pk}/")
    page = marketer.get(url).content.decode()
    assert "Step 2 (wait only) can never be reached" in page and "loops" not in page
    # A template deleted after the flow was built is named too.
    flow_template.delete()
    assert "there is no e-mail template &#x27;FLOW_BASKET&#x27;" in marketer.get(url).content.decode()


def test_support_may_look_but_not_change_and_csrf_is_required(flow_settings, flow_template, make_staff, product):
    flow = make_flow("test_basket", [{"kind": "email", "config": {"template": "FLOW_BASKET"}}])
    support = Client()
    support.force_login(make_staff("support@example.com", group="Support"))
    assert support.get("/dashboard/campaigns/flows/").status_code == 200
    assert support.get(f"/dashboard/campaigns/flows/{flow.pk}/enrolments/").status_code == 200
    assert support.get("/dashboard/campaigns/flows/new/").status_code == 403
    assert support.post("/dashboard/campaigns/flows/new/", {"trigger": "test_basket"}).status_code == 403
    assert support.post(f"/dashboard/campaigns/flows/{flow.pk}/pause/").status_code == 403
    assert support.post(f"/dashboard/campaigns/flows/{flow.pk}/", {"name": "x"}).status_code == 403
    assert Client().get("/dashboard/campaigns/flows/").status_code == 302
    shopper = Client()
    shopper.force_login(make_customer("ada").user)
    assert shopper.get("/dashboard/campaigns/flows/").status_code in (302, 403)
    marketer = Client(enforce_csrf_checks=True)
    marketer.force_login(make_staff("marketer@example.com", group="Marketing"))
    assert marketer.post(f"/dashboard/campaigns/flows/{flow.pk}/pause/").status_code == 403  # no token
    assert marketer.post("/dashboard/campaigns/flows/new/", {"trigger": "nope"}).status_code == 403
    flow.refresh_from_db()
    assert flow.status == Flow.ACTIVE and Flow.objects.count() == 1
    home = marketer.get("/dashboard/").content.decode()
    assert "/dashboard/campaigns/flows/" in home


def test_an_unknown_trigger_is_a_message_not_an_error(flow_settings, marketer):
    response = _post(marketer, "/dashboard/campaigns/flows/new/", {"trigger": "nope"})
    assert response.status_code == 302
    assert "Choose one of the triggers listed." in marketer.get("/dashboard/campaigns/flows/new/").content.decode()
    assert marketer.get("/dashboard/campaigns/flows/999/").status_code == 404


def test_the_card_and_the_enrolments_page_show_who_is_where(flow_settings, flow_template, product, make_staff):
    ada = make_customer("ada")
    basket_of(ada, product)
    flow = make_flow("test_basket", [{"kind": "email", "wait_hours": 4, "config": {"template": "FLOW_BASKET"}}])
    tick(BASE + timedelta(hours=1))
    support = Client()
    support.force_login(make_staff("support@example.com", group="Support"))
    card = support.get(f"/dashboard/customers/support-desk/{ada.pk}/?tab=flows").content.decode()
    assert flow.name in card and "In the flow" in card and "next: send e-mail at" in card
    listing = support.get(f"/dashboard/campaigns/flows/{flow.pk}/enrolments/?status=active").content.decode()
    assert ada.person_key in listing and "basket:" in listing
    assert support.get(f"/dashboard/campaigns/flows/{flow.pk}/enrolments/?status=bogus").status_code == 200


def test_enrolments_are_in_the_export_and_go_with_the_erasure(flow_settings, flow_template, product):
    from campaigns.privacy import personal_data
    from ecrm.privacy import person_identities

    ada = make_customer("ada")
    basket_of(ada, product)
    make_flow("test_basket", [{"kind": "voucher", "config": {"percent": 5, "valid_days": 2}}])
    tick(BASE + timedelta(hours=1))
    person = person_identities(ada)
    export = personal_data.export(person)
    assert export["flow_enrolments.json"][0]["status"] == FlowEnrolment.COMPLETED
    assert export["flow_vouchers.json"][0]["voucher__code"].startswith("FLOW-")
    assert personal_data.plan(person)["flow enrolments"] == 1
    erased = personal_data.erase(person)
    assert erased["campaigns.FlowEnrolment"] == 1 and erased["campaigns.PersonalVoucher"] == 1
    assert not FlowEnrolment.objects.exists()


def test_deleting_a_step_of_a_paused_flow_moves_its_waiting_customers_on(flow_settings, flow_template, product,
                                                                         marketer):
    ada = make_customer("ada")
    basket_of(ada, product)
    flow = make_flow("test_basket", [{"kind": "wait", "wait_hours": 2},
                                     {"kind": "email", "config": {"template": "FLOW_BASKET"}}])
    tick(BASE + timedelta(hours=1))
    wait, email = flow.steps_in_order()
    url = f"/dashboard/campaigns/flows/{flow.pk}/"
    _post(marketer, f"{url}pause/", page=url)
    assert _post(marketer, f"{url}steps/{wait.pk}/delete/", page=url).status_code == 302
    enrolment = FlowEnrolment.objects.get(flow=flow)
    assert enrolment.step_id == email.pk and enrolment.status == FlowEnrolment.ACTIVE
    _post(marketer, f"{url}activate/", page=url)
    tick(BASE + timedelta(hours=3))
    enrolment.refresh_from_db()
    assert enrolment.status == FlowEnrolment.COMPLETED and enrolment.history[0]["outcome"].startswith("e-mail queued")


def test_a_flow_nobody_entered_can_be_deleted_one_with_customers_cannot(flow_settings, flow_template, product,
                                                                        marketer):
    empty = make_flow("test_basket", BASKET_STEPS, activate=False)
    used = make_flow("test_basket", BASKET_STEPS)
    basket_of(make_customer("ada"), product)
    tick(BASE + timedelta(hours=1))
    Flow.objects.filter(pk=used.pk).update(status=Flow.PAUSED)
    assert _post(marketer, f"/dashboard/campaigns/flows/{empty.pk}/delete/", page="/dashboard/campaigns/flows/"
                 ).status_code == 302
    url = f"/dashboard/campaigns/flows/{used.pk}/"
    _post(marketer, f"{url}delete/", page=url)
    assert list(Flow.objects.values_list("pk", flat=True)) == [used.pk]
    assert "pause it instead, to keep its results" in marketer.get(url).content.decode()


def test_an_email_step_may_send_a_published_design_not_a_draft_or_a_missing_one(flow_settings, flow_template):
    from campaigns.designs_models import EmailDesign
    from campaigns.flows.validation import flow_problems

    assert EmailDesign.objects.filter(slug="gift-guide", live=True).exists()  # a starter design, after migrate
    flow = make_flow("test_basket", [{"kind": "email", "config": {"template": "design:gift-guide"}}], activate=False)
    assert flow_problems(flow) == []
    step = flow.steps.get()
    step.config = {"template": "design:no-such-design"}
    step.save()
    assert any("there is no published e-mail design 'no-such-design'" in p for p in flow_problems(flow))
    EmailDesign.objects.filter(slug="gift-guide").update(live=False)
    step.config = {"template": "design:gift-guide"}
    step.save()
    assert any("published e-mail design 'gift-guide'" in p for p in flow_problems(flow))


def test_the_editor_shows_each_steps_figures(flow_settings, flow_template, product, make_staff, settings):
    """Like Klaviyo's flow builder: per step, who waits there, who went through, and for an
    e-mail its sent, opened and clicked."""
    import re

    from campaigns.engagement import open_url
    from campaigns.models import Message
    from campaigns.outbox import message_deliver

    settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    people = [make_customer(name) for name in ("ada", "bob", "cy")]
    for person in people:
        basket_of(person, product)
    flow = make_flow("test_basket", [{"kind": "wait", "wait_hours": 1},
                                     {"kind": "email", "wait_hours": 2, "config": {"template": "FLOW_BASKET"}}])
    tick(BASE + timedelta(hours=1))   # enrolled, waiting at step 1
    tick(BASE + timedelta(hours=2))   # step 1 done, waiting at step 2
    support = Client()
    support.force_login(make_staff("support@example.com", group="Support"))
    page = support.get(f"/dashboard/campaigns/flows/{flow.pk}/").content.decode()
    rows = re.findall(r"<tr><td>(\d)</td>(.*?)</tr>", page, re.S)
    cells = {n: re.findall(r"<td>(.*?)</td>", row, re.S) for n, row in rows}
    assert [c.strip() for c in cells["1"][3:5]] == ["0", "3"] and [c.strip() for c in cells["2"][3:5]] == ["3", "0"]
    tick(BASE + timedelta(hours=5))   # the e-mails are queued
    messages = list(Message.objects.filter(campaign=flow.campaign))
    assert len(messages) == 3
    for message in messages:
        assert message_deliver(message.pk, now=BASE + timedelta(hours=5)) == "sent"
    Client().get(open_url(messages[0].pk).removeprefix("https://shop.example.com"), HTTP_USER_AGENT="Mozilla/5.0")
    page = support.get(f"/dashboard/campaigns/flows/{flow.pk}/").content.decode()
    assert "3 · 1 (33 %) · 0 (0 %)" in page


def test_a_segment_flow_is_created_as_a_draft_that_asks_for_its_segment(flow_settings, marketer):
    """The segment triggers have no default segment: the template still makes a draft (no
    server error), and the draft says what it needs before it can be activated."""
    from ecrm.models import Segment

    flow_settings.CAMPAIGNS_TRIGGER_MODULES = ["campaigns.triggers.segments"]
    response = _post(marketer, "/dashboard/campaigns/flows/new/", {"trigger": "segment_joined"})
    assert response.status_code == 302
    flow = Flow.objects.get(trigger_kind="segment_joined")
    assert flow.status == Flow.DRAFT and flow.trigger_settings["segment"] is None
    page = marketer.get(response["Location"]).content.decode()
    assert "Segment: choose a segment" in page
    refused = _post(marketer, f"/dashboard/campaigns/flows/{flow.pk}/activate/", page=response["Location"])
    assert refused.status_code == 302
    flow.refresh_from_db()
    assert flow.status == Flow.DRAFT
    assert "The flow cannot be activated: Trigger settings: Segment: choose a segment" in marketer.get(
        response["Location"]).content.decode()
    segment = Segment.objects.create(name="VIP", kind=Segment.STATIC)
    flow.trigger_settings = {**flow.trigger_settings, "segment": segment.pk}
    flow.save()
    assert "choose a segment" not in marketer.get(response["Location"]).content.decode()
