"""Notes, tags, the consent ledger and the audit log, from the customer card."""

import pytest
from django.test import Client

from ecrm.consents import ConsentError, consent_record, has_consent
from ecrm.models import Consent, CustomerNote, Profile, ProfileAccess
from shop.roles import MARKETING, SUPPORT

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(db):
    return Profile.objects.create(person_key="email:kim@example.com", email="kim@example.com", first_name="Kim")


def _client(make_staff, group):
    client = Client()
    client.force_login(make_staff(f"{group}-staff@example.com", group=group))
    return client


def _card(pk):
    return f"/dashboard/customers/support-desk/{pk}/"


@pytest.mark.parametrize(("group", "note", "tags", "consent"), [
    (SUPPORT, 302, 302, 302),
    (MARKETING, 403, 302, 403),
    (None, 403, 403, 403),
])
def test_permission_matrix_for_card_actions(make_staff, profile, group, note, tags, consent):
    client = _client(make_staff, group)
    assert client.post(_card(profile.pk) + "notes/", {"text": "Called about a late parcel"}).status_code == note
    assert client.post(_card(profile.pk) + "tags/", {"tags": "VIP"}).status_code == tags
    assert client.post(_card(profile.pk) + "consents/", {
        "channel": "email", "topic": "newsletter", "granted": "no"}).status_code == consent


def test_support_adds_notes_and_tags_and_they_show_on_the_timeline(make_staff, profile):
    client = _client(make_staff, SUPPORT)
    client.post(_card(profile.pk) + "notes/", {"text": "Prefers delivery after 5pm"})
    client.post(_card(profile.pk) + "tags/", {"tags": "VIP, wholesale, VIP"})
    assert sorted(profile.tags.names()) == ["VIP", "wholesale"]
    timeline = client.get(_card(profile.pk) + "?tab=timeline").content.decode()
    assert "Prefers delivery after 5pm" in timeline and "+VIP" in timeline
    assert "changed tags" in timeline
    notes = client.get(_card(profile.pk) + "?tab=notes").content.decode()
    assert "Prefers delivery after 5pm" in notes and "SUPPORT-staff@example.com".lower() in notes.lower()


def test_bad_card_input_is_explained_not_stored(make_staff, profile):
    client = _client(make_staff, SUPPORT)
    response = client.post(_card(profile.pk) + "notes/", {"text": "   "}, follow=True)
    assert response.status_code == 200 and "Write something in the note." in response.content.decode()
    response = client.post(_card(profile.pk) + "tags/", {"tags": "x" * 60}, follow=True)
    assert "at most 50 characters" in response.content.decode()
    response = client.post(_card(profile.pk) + "consents/", {"channel": "fax", "topic": "all", "granted": "no"},
                           follow=True)
    assert response.status_code == 200 and "not one of the available choices" in response.content.decode()
    assert not CustomerNote.objects.exists() and not profile.tags.exists() and not Consent.objects.exists()
    assert client.post("/dashboard/customers/support-desk/999999/notes/", {"text": "x"}).status_code == 404


def test_every_staff_view_and_change_is_audited(make_staff, profile):
    client = _client(make_staff, SUPPORT)
    client.get(_card(profile.pk))
    client.get(_card(profile.pk) + "?tab=sessions")
    client.post(_card(profile.pk) + "notes/", {"text": "hello"})
    log = [(email.lower(), action, detail) for email, action, detail in
           ProfileAccess.objects.order_by("at").values_list("staff__email", "action", "detail")]
    assert log[:3] == [("support-staff@example.com", "view", "orders"),
                       ("support-staff@example.com", "view", "sessions"),
                       ("support-staff@example.com", "note", "hello")]


def test_consent_ledger_rules(profile):
    assert not has_consent(profile, "email", "newsletter")  # nothing given: no marketing
    consent_record(profile=profile, channel="email", topic="newsletter", granted=True, source="checkout")
    assert has_consent(profile, "email", "newsletter") and not has_consent(profile, "email", "offers")
    consent_record(profile=profile, channel="email", granted=False, source="unsubscribe")  # all topics
    assert not has_consent(profile, "email", "newsletter")
    consent_record(profile=profile, channel="email", topic="newsletter", granted=True, source="account")
    assert has_consent(profile, "email", "newsletter") and not has_consent(profile, "email", "offers")
    assert not has_consent(profile, "sms", "newsletter")
    assert profile.consents.count() == 3  # a ledger: nothing overwritten
    with pytest.raises(ConsentError, match="unknown channel"):
        consent_record(profile=profile, channel="fax", granted=True, source="staff")


def test_staff_records_a_withdrawal_with_evidence(make_staff, profile):
    client = _client(make_staff, SUPPORT)
    consent_record(profile=profile, channel="email", granted=True, source="checkout")
    client.post(_card(profile.pk) + "consents/", {"channel": "email", "topic": "all", "granted": "no",
                                                  "reason": "asked on the phone"})
    assert not has_consent(profile, "email")
    latest = profile.consents.first()
    assert latest.source == "staff" and latest.evidence["reason"] == "asked on the phone"
    page = client.get(_card(profile.pk) + "?tab=consents").content.decode()
    assert "asked on the phone" in page and "withdrawn" in page
