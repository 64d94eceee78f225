"""Segment-targeted Oscar offers: a "User offer" limited to a segment is applied by the
store's offer applicator (Oscar's ``get_user_offers`` hook) to the segment's current
members only; marketers choose the segment in the dashboard."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from oscar.core.loading import get_model
from oscar.test.factories import create_offer, create_product

from ecrm.models import Profile, Segment, SegmentOffer
from ecrm.segments import static_members_set
from ecrm.selectors import segment_offers_of
from shop.roles import MARKETING, SUPPORT

pytestmark = pytest.mark.django_db
ConditionalOffer = get_model("offer", "ConditionalOffer")


@pytest.fixture
def vip_offer():
    segment = Segment.objects.create(name="VIP", kind=Segment.STATIC)
    offer = create_offer(name="VIPs: 20% off", offer_type=ConditionalOffer.USER)
    SegmentOffer.objects.create(offer=offer, segment=segment)
    return offer, segment


def _shopper(username: str):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw")
    profile = Profile.objects.create(person_key=str(user.pk), user=user, email=user.email)
    client = Client()
    client.force_login(user)
    return user, profile, client


def _basket_total(client, product) -> Decimal:
    client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
    basket = client.get("/basket/").context["basket"]
    return basket.total_excl_tax


def test_a_member_gets_the_offer_in_the_basket_and_a_non_member_does_not(vip_offer):
    offer, segment = vip_offer
    product = create_product(title="Copper kettle", price=Decimal("50.00"), num_in_stock=10)
    _member, member_profile, member = _shopper("member")
    _other, _other_profile, other = _shopper("other")
    static_members_set(segment, {member_profile.pk})
    assert _basket_total(member, product) == Decimal("40.00")
    assert "VIPs: 20% off" in member.get("/basket/").content.decode()
    assert _basket_total(other, product) == Decimal("50.00")
    assert _basket_total(Client(), product) == Decimal("50.00")  # an anonymous visitor


def test_joining_the_segment_turns_the_offer_on_and_leaving_turns_it_off(vip_offer):
    offer, segment = vip_offer
    product = create_product(title="Tea", price=Decimal("10.00"), num_in_stock=10)
    user, profile, client = _shopper("joiner")
    assert _basket_total(client, product) == Decimal("10.00")
    static_members_set(segment, {profile.pk})
    assert client.get("/basket/").context["basket"].total_excl_tax == Decimal("8.00")
    static_members_set(segment, set())
    assert client.get("/basket/").context["basket"].total_excl_tax == Decimal("10.00")
    assert list(segment_offers_of(user)) == []


def test_only_active_user_offers_with_a_segment_apply(vip_offer):
    offer, segment = vip_offer
    user, profile, _client = _shopper("vip")
    static_members_set(segment, {profile.pk})
    unlinked = create_offer(name="User offer, no segment", offer_type=ConditionalOffer.USER)
    site = create_offer(name="Site offer linked by mistake", offer_type=ConditionalOffer.SITE)
    SegmentOffer.objects.create(offer=site, segment=segment)
    assert list(segment_offers_of(user)) == [offer]
    offer.suspend()
    assert list(segment_offers_of(user)) == []
    assert unlinked not in segment_offers_of(user)


def test_a_marketer_chooses_the_segment_of_a_user_offer(make_staff):
    segment = Segment.objects.create(name="Lapsed", kind=Segment.STATIC)
    offer = create_offer(name="Come back: 10% off", offer_type=ConditionalOffer.USER)
    site = create_offer(name="Everyone", offer_type=ConditionalOffer.SITE)
    marketer = Client()
    marketer.force_login(make_staff("m@example.com", group=MARKETING))
    listing = marketer.get("/dashboard/customers/support-desk/segment-offers/").content.decode()
    assert "Come back: 10% off" in listing and "applies to nobody" in listing and "Everyone" not in listing
    url = f"/dashboard/customers/support-desk/segment-offers/{offer.pk}/"
    response = marketer.post(url, {"segment": segment.pk})
    assert response.status_code == 302 and SegmentOffer.objects.get(offer=offer).segment == segment
    assert "Lapsed" in marketer.get("/dashboard/customers/support-desk/segment-offers/").content.decode()
    detail = marketer.get(f"/dashboard/offers/{offer.pk}/").content.decode()  # Oscar's offer page says so too
    assert 'id="offer-segment"' in detail and "“Lapsed”" in detail
    bad = marketer.post(url, {"segment": "999999"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert marketer.get(f"/dashboard/customers/support-desk/segment-offers/{site.pk}/").status_code == 404
    marketer.post(url, {"segment": ""})
    assert not SegmentOffer.objects.filter(offer=offer).exists()
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get("/dashboard/customers/support-desk/segment-offers/").status_code == 403
    assert support.post(url, {"segment": segment.pk}).status_code == 403


def test_segment_offers_are_in_the_dashboards_offers_menu(make_staff):
    marketer = Client()
    marketer.force_login(make_staff("m2@example.com", group=MARKETING))
    html = marketer.get("/dashboard/").content.decode()
    assert "/dashboard/customers/support-desk/segment-offers/" in html
    assert "User offer" in marketer.get("/dashboard/offers/new/metadata/").content.decode()
