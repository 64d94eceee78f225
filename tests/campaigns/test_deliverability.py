"""Permission and deliverability: consent per topic, RFC 8058 one-click unsubscribe, the
frequency cap and quiet hours (deferred, never dropped), and suppression by the
delivery-events webhook."""

import base64
import json
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.core import mail
from django.test import Client

from campaigns.models import Message, Suppression
from campaigns.outbox import message_deliver, message_enqueue
from ecrm.consents import consent_record, has_consent

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc
NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 12:00 in London, outside quiet hours
AUTH = "Basic " + base64.b64encode(b"esp:s3cret").decode()


@pytest.fixture(autouse=True)
def https_site(settings):
    settings.CAMPAIGNS_BASE_URL = "https://shop.example"
    settings.CAMPAIGNS_WEBHOOK_SECRET = "esp:s3cret"


def _marketing(customer, key="winter-1", topic="newsletter", at=NOON):
    message, _ = message_enqueue(key=f"broadcast:{key}:{customer.person_key}", source_kind="broadcast",
                                 source_id=key, kind=Message.MARKETING, topic=topic,
                                 person_key=customer.person_key, user=customer.user, to_email=customer.email,
                                 template="WINTER_NEWS", due_at=at)
    return message


def _transactional(customer, key="receipt-1"):
    message, _ = message_enqueue(key=f"test:{key}", source_kind="test", kind=Message.TRANSACTIONAL,
                                 person_key=customer.person_key, user=customer.user, to_email=customer.email,
                                 template="WINTER_NEWS", due_at=NOON)
    return message


def _status(message):
    message.refresh_from_db()
    return message.status


def test_no_marketing_without_consent_for_its_topic(customer, marketing_template):
    first = _marketing(customer, "w1")
    assert message_deliver(first.pk, now=NOON) == "skipped: no consent for email / newsletter"
    consent_record(profile=customer, channel="email", topic="offers", granted=True, source="account")
    second = _marketing(customer, "w2")
    assert message_deliver(second.pk, now=NOON).startswith("skipped")
    consent_record(profile=customer, channel="email", topic="newsletter", granted=True, source="account")
    third = _marketing(customer, "w3")
    assert message_deliver(third.pk, now=NOON) == "sent"
    # A skipped message stays skipped: consent given later does not send old news.
    assert message_deliver(first.pk, now=NOON) == "already skipped"
    assert len(mail.outbox) == 1
    # Transactional goes without any consent.
    assert message_deliver(_transactional(customer).pk, now=NOON) == "sent"


def test_marketing_carries_one_click_unsubscribe_that_works_without_a_session(customer, marketing_template):
    consent_record(profile=customer, channel="email", topic="newsletter", granted=True, source="account")
    assert message_deliver(_marketing(customer).pk, now=NOON) == "sent"
    email = mail.outbox[0]
    header = email.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://shop.example/campaigns/unsubscribe/") and header.endswith("/>")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url in email.alternatives[0][0] and "Unsubscribe (" in email.body  # the link in the body too
    path = url.removeprefix("https://shop.example")

    stranger = Client(enforce_csrf_checks=True)  # no session, no cookie, no CSRF token
    assert stranger.get(path).status_code == 200
    assert has_consent(customer, "email", "newsletter")  # a GET (a link scanner) changes nothing
    response = stranger.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    assert not has_consent(customer, "email", "newsletter")  # at once
    latest = customer.consents.order_by("-recorded_at", "-pk").first()
    assert (latest.topic, latest.granted, latest.source) == ("newsletter", False, "one-click")
    assert message_deliver(_marketing(customer, "w2").pk, now=NOON).startswith("skipped: no consent")


def test_the_unsubscribe_page_can_stop_all_marketing(customer):
    from campaigns.tokens import unsubscribe_url

    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    path = unsubscribe_url(person_key=customer.person_key, channel="email", topic="newsletter").removeprefix(
        "https://shop.example")
    assert Client().post(path, {"scope": "all"}).status_code == 200
    assert not has_consent(customer, "email", "offers") and not has_consent(customer, "email", "newsletter")


def test_an_invalid_unsubscribe_token_is_a_clear_400(customer):
    from campaigns.tokens import unsubscribe_url

    path = unsubscribe_url(person_key=customer.person_key, channel="email", topic="all").removeprefix(
        "https://shop.example")
    for bad in (path[:-6] + "xxxxx/", "/campaigns/unsubscribe/nonsense/"):
        for method in ("get", "post"):
            response = getattr(Client(), method)(bad)
            assert response.status_code == 400 and "not valid" in response.content.decode()


def test_the_frequency_cap_defers_the_second_message(customer, marketing_template):
    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    first, second = _marketing(customer, "w1"), _marketing(customer, "w2", topic="offers")
    assert message_deliver(first.pk, now=NOON) == "sent"
    outcome = message_deliver(second.pk, now=NOON + timedelta(hours=1))
    assert outcome.startswith("deferred: frequency cap")
    second.refresh_from_db()
    # The cap ends at 04:00 London, inside quiet hours: it waits until they end at 08:00.
    assert second.status == Message.QUEUED and second.due_at == datetime(2026, 1, 16, 8, 0, tzinfo=UTC)
    assert second.deferred_because == ("frequency cap (one marketing message per 16 hours) "
                                       "then quiet hours (21:00-08:00 Europe/London)")
    assert message_deliver(second.pk, now=NOON + timedelta(hours=17)) == "not due yet"
    assert message_deliver(second.pk, now=second.due_at) == "sent"
    assert len(mail.outbox) == 2
    # Transactional messages ignore the cap.
    assert message_deliver(_transactional(customer).pk, now=NOON + timedelta(hours=1)) == "sent"


def test_quiet_hours_follow_the_customers_time_zone(customer, marketing_template, settings):
    settings.CAMPAIGNS_FREQUENCY_CAP_HOURS = 0
    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    customer.traits = {"timezone": "America/New_York"}
    customer.save()
    at_three_new_york = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    message = _marketing(customer, at=at_three_new_york)
    outcome = message_deliver(message.pk, now=at_three_new_york)
    assert outcome == "deferred: quiet hours (21:00-08:00 America/New_York)"
    message.refresh_from_db()
    assert message.due_at == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 in New York


def _webhook(payload, auth=AUTH):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Client(enforce_csrf_checks=True).post("/campaigns/webhooks/delivery-events/", json.dumps(payload),
                                                 content_type="application/json", **headers)


def test_a_hard_bounce_stops_all_mail_to_the_address(customer, marketing_template):
    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    response = _webhook([{"event_type": "bounced", "recipient": "ADA@example.com", "event_id": "e1",
                          "description": "550 5.1.1 user unknown", "esp_event": {"raw": True}}])
    assert response.status_code == 200, response.content
    suppression = Suppression.objects.get(email="ada@example.com")
    assert suppression.blocks_transactional and "user unknown" in suppression.detail
    assert message_deliver(_marketing(customer).pk, now=NOON) == "skipped: address suppressed: Bounced"
    assert message_deliver(_transactional(customer).pk, now=NOON) == "skipped: address suppressed: Bounced"
    assert mail.outbox == []


def test_a_complaint_stops_marketing_but_not_order_mail(customer, marketing_template):
    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    assert _webhook({"event_type": "complained", "recipient": "ada@example.com"}).status_code == 200
    assert not has_consent(customer, "email", "newsletter")  # the ledger says why
    assert customer.consents.order_by("-pk").first().source == "complaint"
    entries = customer.consents.count()
    assert _webhook({"event_type": "complained", "recipient": "ada@example.com"}).status_code == 200
    assert customer.consents.count() == entries  # the same event again adds nothing
    assert message_deliver(_marketing(customer).pk, now=NOON).startswith("skipped: address suppressed")
    assert message_deliver(_transactional(customer).pk, now=NOON) == "sent"


def test_delivery_events_are_noted_on_the_message(customer, marketing_template):
    message = _transactional(customer)
    message_deliver(message.pk, now=NOON)
    message.refresh_from_db()
    response = _webhook({"event_type": "delivered", "recipient": customer.email, "message_id": message.message_id})
    assert response.json() == {"applied": ["noted (delivered)"]}
    message.refresh_from_db()
    assert message.delivery_event == "delivered"


def test_the_webhook_refuses_bad_requests_clearly(settings):
    assert _webhook({"event_type": "bounced", "recipient": "a@example.com"}, auth=None).status_code == 401
    wrong = "Basic " + base64.b64encode(b"esp:guess").decode()
    assert _webhook({"event_type": "bounced", "recipient": "a@example.com"}, auth=wrong).status_code == 401
    assert _webhook({"event_type": "bounced"}).json()["error"].startswith("event 0: recipient")
    # All or nothing: the good first event of a batch with a bad second one is not applied.
    response = _webhook([{"event_type": "bounced", "recipient": "a@example.com"}, {"recipient": "b@example.com"}])
    assert response.status_code == 400
    assert response.json() == {"error": "event 1: event_type is required (bounced, complained, rejected, "
                                        "delivered, ...); nothing was applied"}
    bad_json = Client().post("/campaigns/webhooks/delivery-events/", "{", content_type="application/json",
                             HTTP_AUTHORIZATION=AUTH)
    assert bad_json.status_code == 400 and bad_json.json() == {"error": "the body is not JSON"}
    settings.CAMPAIGNS_WEBHOOK_SECRET = ""
    assert _webhook({"event_type": "bounced", "recipient": "a@example.com"}).status_code == 403
    assert not Suppression.objects.exists()


def test_the_preference_centre_sets_frequency_and_pause(customer, marketing_template):
    from campaigns.models import ContactPreference

    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)
    page = client.get("/accounts/communication-preferences/")
    body = page.content.decode()
    assert 'id="frequency-form"' in body and "At most once a week" in body
    token = page.context["csrf_token"]
    assert client.post("/campaigns/preferences/frequency/", {"frequency": "weekly", "pause": ""}).status_code == 403
    response = client.post("/campaigns/preferences/frequency/",
                           {"frequency": "weekly", "pause": "", "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert ContactPreference.objects.get(person_key=customer.person_key).frequency == "weekly"
    # Weekly: a second message three days later waits for the week to pass.
    assert message_deliver(_marketing(customer, "w1").pk, now=NOON) == "sent"
    second = _marketing(customer, "w2", at=NOON + timedelta(days=3))
    assert message_deliver(second.pk, now=NOON + timedelta(days=3)).startswith("deferred: frequency cap")
    assert _state_due(second) == NOON + timedelta(days=7)
    # A pause skips marketing (no backlog when it ends); order mail still goes.
    preference = ContactPreference.objects.get()
    preference.paused_until = NOON + timedelta(days=30)
    preference.save()
    third = _marketing(customer, "w3", at=NOON + timedelta(days=8))
    assert message_deliver(third.pk, now=NOON + timedelta(days=8)).startswith("skipped: marketing paused")
    assert message_deliver(_transactional(customer).pk, now=NOON + timedelta(days=8)) == "sent"
    bad = client.post("/campaigns/preferences/frequency/",
                      {"frequency": "hourly", "csrfmiddlewaretoken": str(token)}, follow=True)
    assert "Choose how often" in bad.content.decode()


def _state_due(message):
    message.refresh_from_db()
    return message.due_at


def test_the_frequency_cap_is_configurable_and_can_be_switched_off(customer, marketing_template, settings):
    from campaigns.defaults import DEFAULTS

    assert DEFAULTS["CAMPAIGNS_FREQUENCY_CAP_HOURS"] == 16  # the default: one per 16 hours
    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    settings.CAMPAIGNS_FREQUENCY_CAP_HOURS = 2
    assert message_deliver(_marketing(customer, "c1").pk, now=NOON) == "sent"
    second = _marketing(customer, "c2")
    assert message_deliver(second.pk, now=NOON + timedelta(hours=1)).startswith("deferred: frequency cap")
    assert _state_due(second) == NOON + timedelta(hours=2)
    assert message_deliver(second.pk, now=NOON + timedelta(hours=2)) == "sent"
    settings.CAMPAIGNS_FREQUENCY_CAP_HOURS = 0  # no cap
    assert message_deliver(_marketing(customer, "c3").pk, now=NOON + timedelta(hours=2, minutes=5)) == "sent"
    settings.CAMPAIGNS_QUIET_HOURS = None  # and no quiet hours: 23:00 London is fine
    assert message_deliver(_marketing(customer, "c4").pk, now=NOON + timedelta(hours=11)) == "sent"
    assert len(mail.outbox) == 4
