"""Every trigger kind is registered with sensible defaults, a ready flow in the contract's
format whose e-mails exist as Oscar event types, and those e-mails render."""

from decimal import Decimal

import pytest
from django.core import mail
from oscar.core.loading import get_model

from campaigns.models import Occasion
from campaigns.trigger_templates import ready_flow_templates
from campaigns.triggers.base import triggers_all

CommunicationEventType = get_model("communication", "CommunicationEventType")
KINDS = {"abandoned_basket", "abandoned_checkout", "browse_abandonment", "post_purchase", "replenishment",
         "win_back", "back_in_stock", "price_drop", "new_arrivals", "welcome", "birthday", "occasion",
         "segment_joined", "segment_left"}
ACTIONS = {"email": {"template"}, "sms": {"text"}, "voucher": {"valid_days"}, "tag": set(), "webhook": {"url"}}
EXITS = {"order_placed", "unsubscribed", "left_segment", "basket_emptied", "product_added"}


@pytest.mark.django_db
def test_every_kind_is_registered_with_defaults_a_ready_flow_and_exits():
    triggers = {t.kind: t for t in triggers_all()}
    assert set(triggers) == KINDS
    for trigger in triggers.values():
        assert trigger.label and trigger.description and trigger.flow_template
        assert set(trigger.exits) <= EXITS and "unsubscribed" in trigger.exits
        for step in trigger.flow_template:
            assert step["wait_hours"] >= 0 and ACTIONS[step["action"]] <= set(step), (trigger.kind, step)
        if trigger.kind.startswith("segment"):
            continue
        assert trigger.settings_clean({}) == {p.name: p.default for p in trigger.params}


@pytest.mark.django_db
def test_ready_flow_emails_exist_as_oscar_event_types_after_migrate():
    codes = ready_flow_templates()
    assert "CAMPAIGN_ABANDONED_BASKET" in codes and len(codes) == 16
    assert set(CommunicationEventType.objects.filter(code__in=codes).values_list("code", flat=True)) == set(codes)


@pytest.fixture
def context(db):
    """A hand-built context with every well-known name, as the flow engine builds it."""
    from oscar.test.factories import create_basket, create_order, create_product, create_voucher

    from ecrm.models import Profile
    from recommender.email import EmailBlock

    kettle = create_product(title="Copper kettle", price=Decimal("30.00"), num_in_stock=5)
    mug = create_product(title="Mug & saucer", price=Decimal("8.00"), num_in_stock=5)
    basket = create_basket(empty=True)
    basket.add_product(kettle, quantity=2)
    order = create_order(basket=create_basket())
    voucher = create_voucher(code="ADA-4XQ2")
    customer = Profile.objects.create(person_key="77", email="ada@example.com", first_name="Ada")
    occasion = Occasion(person_key="77", recipient="Mum", kind=Occasion.BIRTHDAY, month=6, day=24)
    recommendations = EmailBlock("email:test", [], '<table><tr><td>Recommended teapot</td></tr></table>',
                                 "Recommended teapot\n")
    return {"customer": customer, "basket": basket, "products": [kettle, mug], "order": order,
            "voucher": voucher, "occasion": occasion, "recommendations": recommendations,
            "price_was": "50.00", "price_now": "44.00", "shop_name": "Oscar Tea",
            "unsubscribe_url": "https://shop.example/campaigns/unsubscribe/t/"}


def test_every_ready_flow_email_renders_with_a_hand_built_context(context):
    for code, _name in ready_flow_templates().items():
        parts = CommunicationEventType.objects.get(code=code).get_messages(context)
        subject, text, html = parts["subject"].strip(), parts["body"], parts["html"]
        assert subject and "{" not in subject and "&#x27;" not in subject and "&amp;" not in subject, (code, subject)
        assert text.startswith("Hello Ada,") and "{%" not in text and "&amp;" not in text, (code, text)
        assert "<p>Hello Ada,</p>" in html and "Unsubscribe" in html, code
        if code in ("CAMPAIGN_BROWSE_ABANDONMENT", "CAMPAIGN_PRICE_DROP",
                                                  "CAMPAIGN_BACK_IN_STOCK", "CAMPAIGN_NEW_ARRIVALS",
                                                  "CAMPAIGN_POST_PURCHASE", "CAMPAIGN_OCCASION"):
            assert "Copper kettle" in html and "http://" in html and "/catalogue/" in html, code
            assert "Mug & saucer" in text, code
    rendered = CommunicationEventType.objects.get(code="CAMPAIGN_ABANDONED_BASKET_OFFER").get_messages(context)
    assert "ADA-4XQ2" in rendered["html"] and "ADA-4XQ2" in rendered["body"]
    occasion = CommunicationEventType.objects.get(code="CAMPAIGN_OCCASION").get_messages(context)
    assert occasion["subject"].strip() == "Mum's birthday is coming up"
    basket = CommunicationEventType.objects.get(code="CAMPAIGN_ABANDONED_BASKET").get_messages(context)
    assert "2 × " in basket["html"] and "Recommended teapot" in basket["html"] and "Recommended teapot" in basket["body"]
    drop = CommunicationEventType.objects.get(code="CAMPAIGN_PRICE_DROP").get_messages(context)
    assert "was 50.00, now 44.00" in drop["body"]
    assert "30.00" in drop["html"]  # the product cards price through Oscar's strategy
    assert not mail.outbox


def test_a_trigger_module_that_does_not_import_is_a_system_check_error(settings):
    from campaigns.checks import check_trigger_modules

    assert check_trigger_modules() == []
    settings.CAMPAIGNS_TRIGGER_MODULES = ["campaigns.triggers.baskets", "campaigns.triggers.nowhere"]
    [error] = check_trigger_modules()
    assert "campaigns.triggers.nowhere" in error.msg and error.id.startswith("campaigns.E")
    settings.CAMPAIGNS_TRIGGER_MODULES = "campaigns.triggers.baskets"
    assert "must be a list of module paths" in check_trigger_modules()[0].msg
