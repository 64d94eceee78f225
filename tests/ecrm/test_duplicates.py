"""Likely duplicates are found; a merge keeps every record and the identity graph follows."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from ecrm.consents import consent_record, has_consent
from ecrm.desk import note_add
from ecrm.duplicates import likely_duplicates, normalised_email, normalised_phone, profile_merge
from ecrm.models import Profile, ProfileMerge, Segment, SegmentMembership
from ecrm.segments import segment_refresh
from ecrm.services import profiles_refresh
from shop.roles import MARKETING, SUPPORT
from tests.helpers import place_order
from tracking.models import Event, IdentityLink

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def test_normalisation():
    assert normalised_email(" Jane.Doe+shop@GoogleMail.com ") == "janedoe@gmail.com"
    assert normalised_email("jane.doe@example.com") == "jane.doe@example.com"
    assert normalised_phone("07700 900123") == normalised_phone("+44 7700 900123") == "700900123"
    assert normalised_phone("12345") == ""


def test_pairs_are_suggested_with_reasons(db):
    make = lambda key, **fields: Profile.objects.create(person_key=key, **fields)  # noqa: E731
    a = make("1", email="jane.doe@gmail.com", first_name="Jane", last_name="Doe")
    b = make("email:janedoe+shop@gmail.com", email="janedoe+shop@gmail.com")
    c = make("3", email="j@example.com", phone="+447700900123")
    d = make("4", email="jd@example.org", phone="07700 900123")
    e = make("5", email="m1@example.com", first_name="Margaret", last_name="Hamilton", region="Boston, USA")
    f = make("6", email="m2@example.com", first_name="Margret", last_name="Hamilton", region="Boston, USA")
    make("7", email="other@example.com", first_name="Margaret", last_name="Hamilton", region="Leeds, UK")
    found = {frozenset((x.first.pk, x.second.pk)): x.reasons for x in likely_duplicates()}
    assert found == {frozenset((a.pk, b.pk)): ["same e-mail"], frozenset((c.pk, d.pk)): ["same phone"],
                     frozenset((e.pk, f.pk)): ["similar name, same region"]}


def test_merge_keeps_every_record(countries, product_in_stock, make_staff, stream_name):
    User = get_user_model()
    ann = User.objects.create_user("ann", "ann@example.com", "pw", first_name="Ann")
    ann2 = User.objects.create_user("ann2", "ann.work@example.com", "pw", first_name="Ann")
    for user in (ann, ann2):
        place_order(product_in_stock, user=user)
    for number, (user, visitor) in enumerate(((ann, "laptop"), (ann2, "phone"))):
        Event.objects.create(message_id=f"v-{number}", type="track", event="Product Viewed", anonymous_id=visitor,
                             timestamp=NOW - timedelta(days=number), received_at=NOW, source="browser",
                             properties={"category": "Kitchen"})
        IdentityLink.objects.create(kind="anonymous", identifier=visitor, user_id=str(user.pk),
                                    first_seen_at=NOW, via="identify")
    profiles_refresh(person_keys={str(ann.pk), str(ann2.pk)})
    keep, remove = Profile.objects.get(person_key=str(ann.pk)), Profile.objects.get(person_key=str(ann2.pk))
    staff = make_staff("support@example.com", group=SUPPORT)
    note_add(profile=remove, author=staff, text="Uses her work address")
    consent_record(profile=remove, channel="email", topic="newsletter", granted=True, source="account")
    remove.tags.add("B2B")
    segment = Segment.objects.create(name="Buyers", rules={"attribute": "order_count", "op": "gte", "value": 1})
    segment_refresh(segment)

    profile_merge(keep=keep, remove=remove, staff=staff)

    keep.refresh_from_db()
    assert not Profile.objects.filter(pk=remove.pk).exists()
    assert keep.order_count == 2 and keep.product_views == 2  # both accounts' orders and visits
    assert keep.notes.get().text == "Uses her work address"
    assert has_consent(keep, "email", "newsletter") and keep.tags.names()[0] == "B2B"
    stays = SegmentMembership.objects.filter(segment=segment, profile=keep)
    assert stays.filter(left_at=None).count() == 1 and stays.count() == 2  # her stay and the moved one
    merge = ProfileMerge.objects.get()
    assert merge.removed_key == str(ann2.pk) and merge.removed_snapshot["email"] == "ann.work@example.com"
    # New activity of the removed account is the kept person's, not a new profile.
    profiles_refresh(person_keys={str(ann2.pk)})
    assert not Profile.objects.filter(person_key=str(ann2.pk)).exists()


@pytest.mark.parametrize(("group", "status"), [(SUPPORT, 200), (MARKETING, 403)])
def test_only_support_reviews_and_merges(make_staff, group, status):
    first = Profile.objects.create(person_key="email:x@example.com", email="x@example.com")
    second = Profile.objects.create(person_key="email:X@example.com ", email="X@example.com")
    client = Client()
    client.force_login(make_staff(f"{group}-dup@example.com", group=group))
    assert client.get("/dashboard/customers/support-desk/duplicates/").status_code == status
    url = f"/dashboard/customers/support-desk/duplicates/{first.pk}/{second.pk}/"
    assert client.get(url).status_code == status
    if status == 200:
        assert "x@example.com" in client.get("/dashboard/customers/support-desk/duplicates/").content.decode()
        assert client.post(url, {}).status_code == 302 and Profile.objects.count() == 2  # must choose
        client.post(url + "different/")
        assert likely_duplicates() == []
        assert client.post(url, {"keep": first.pk}).status_code == 302
        assert Profile.objects.count() == 1
