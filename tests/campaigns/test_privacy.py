"""A customer's campaign messages, preferences and suppressions are in their data export and
go with their erasure (through ecrm's ECRM_PERSONAL_DATA)."""

import io
import json
import zipfile

import pytest

from campaigns.models import ContactPreference, Message, Suppression
from campaigns.outbox import message_deliver, message_enqueue
from ecrm.privacy import customer_erase, customer_export, erasure_plan

pytestmark = pytest.mark.django_db


def test_export_and_erasure_cover_campaigns(customer, marketing_template, make_staff):
    message, _ = message_enqueue(key="test:receipt", source_kind="test", kind=Message.TRANSACTIONAL,
                                 person_key=customer.person_key, user=customer.user, to_email="Ada@Example.com",
                                 template="WINTER_NEWS")
    assert message_deliver(message.pk) == "sent"
    ContactPreference.objects.create(person_key=customer.person_key, frequency="weekly")
    Suppression.objects.create(email="ada@example.com", reason=Suppression.COMPLAINED)
    other = message_enqueue(key="test:other", source_kind="test", kind=Message.TRANSACTIONAL, person_key="99",
                            to_email="bob@example.com", template="WINTER_NEWS")[0]

    archive = zipfile.ZipFile(io.BytesIO(customer_export(customer)))
    sent = json.loads(archive.read("campaign_messages.json"))
    assert [m["subject"] for m in sent] == ["Winter news for Ada"]
    assert json.loads(archive.read("campaign_preferences.json"))[0]["frequency"] == "weekly"
    assert json.loads(archive.read("suppressions.json"))[0]["reason"] == "complained"
    assert erasure_plan(customer)["campaign messages"] == 1

    counts = customer_erase(customer, staff=make_staff("dpo@example.com", group="Support"))
    assert counts["campaigns.Message"] == 1 and counts["campaigns.ContactPreference"] == 1
    assert list(Message.objects.all()) == [other]
    assert not ContactPreference.objects.exists() and not Suppression.objects.exists()
