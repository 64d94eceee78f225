"""Customers give and withdraw consent themselves, in Oscar's account area."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from ecrm.consents import has_consent
from ecrm.models import Consent, Profile

pytestmark = pytest.mark.django_db
URL = "/accounts/communication-preferences/"


def test_giving_and_withdrawing_is_one_tick_each(site_pages):
    user = get_user_model().objects.create_user("zoe", "zoe@example.com", "pw")
    client = Client(REMOTE_ADDR="203.0.113.77")
    client.force_login(user)
    page = client.get(URL).content.decode()
    assert "Newsletter by E-mail" in page and "Offers and discounts by SMS" in page
    assert "Communication preferences" in client.get("/accounts/profile/").content.decode()  # in the tabs

    client.post(URL, {"email_newsletter": "on"})
    profile = Profile.objects.get(person_key=str(user.pk))
    assert has_consent(profile, "email", "newsletter") and not has_consent(profile, "email", "offers")
    given = Consent.objects.get()
    assert (given.source, given.evidence["ip"], given.evidence["page"]) == ("account", "203.0.113.0", URL)

    assert "Nothing changed." in client.post(URL, {"email_newsletter": "on"}, follow=True).content.decode()
    client.post(URL, {})  # unticked
    assert not has_consent(profile, "email", "newsletter")
    assert list(Consent.objects.order_by("recorded_at").values_list("granted", flat=True)) == [True, False]


def test_anonymous_visitors_are_asked_to_log_in():
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_bad_topics_setting_is_explained(settings):
    settings.ECRM_CONSENT_TOPICS = [("all", "Everything")]
    with pytest.raises(SystemCheckError, match="ECRM_CONSENT_TOPICS"):
        call_command("check", verbosity=0)
