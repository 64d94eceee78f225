"""Segment rules against hand-computed expectations, and membership with joined/left."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ecrm.consents import consent_record
from ecrm.models import Profile, Segment, SegmentMembership
from ecrm.segment_rules import RuleError, validate
from ecrm.segments import segment_count, segment_matches, segment_refresh
from tests.helpers import place_order
from tracking.models import Event, IdentityLink

pytestmark = pytest.mark.django_db
NOW = timezone.now()
KITCHEN_3_IN_14_NO_ORDER_30 = {"all": [
    {"event": "Product Viewed", "where": {"category": "Kitchen"}, "op": "gte", "count": 3, "within_days": 14},
    {"orders": {"op": "eq", "count": 0, "within_days": 30}},
]}


def _views(person, category, days_ago, times, *, anonymous=""):
    for i in range(times):
        Event.objects.create(message_id=f"{person}-{category}-{days_ago}-{i}-{anonymous}", type="track",
                             event="Product Viewed", user_id="" if anonymous else person,
                             anonymous_id=anonymous, timestamp=NOW - timedelta(days=days_ago, minutes=i),
                             received_at=NOW, source="browser", properties={"category": category})


def _order(user, days_ago, countries, product):
    place_order(product, user=user, placed_at=NOW - timedelta(days=days_ago))


@pytest.fixture
def people(db, countries, product_in_stock):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    made = {}
    for name in ("ann", "bob", "cat", "dan", "eve"):
        user = User.objects.create_user(name, f"{name}@example.com", "pw")
        made[name] = Profile.objects.create(person_key=str(user.pk), user=user, email=user.email,
                                            order_count=0, revenue=Decimal("0"))
    users = {name: profile.user for name, profile in made.items()}
    _views(made["ann"].person_key, "Kitchen", 2, 3)          # 3 in window, no order: IN
    _views(made["bob"].person_key, "Kitchen", 2, 2)          # only 2: OUT
    _views(made["cat"].person_key, "Kitchen", 20, 5)         # outside 14 days: OUT
    _views(made["dan"].person_key, "Kitchen", 1, 4)          # but ordered 10 days ago: OUT
    _order(users["dan"], 10, countries, product_in_stock)
    _views(made["eve"].person_key, "Kitchen", 3, 1)          # 1 signed in + 2 anonymous, linked: IN
    _views(made["eve"].person_key, "Kitchen", 4, 2, anonymous="eve-phone")
    IdentityLink.objects.create(kind="anonymous", identifier="eve-phone", user_id=made["eve"].person_key,
                                first_seen_at=NOW, via="identify")
    _views("someone-else", "Garden", 1, 5)
    _order(users["ann"], 60, countries, product_in_stock)   # an old order does not count
    return made


def _names(ids, people):
    return sorted(name for name, profile in people.items() if profile.pk in ids)


def test_the_issues_example_matches_by_hand(people):
    assert _names(segment_matches(KITCHEN_3_IN_14_NO_ORDER_30), people) == ["ann", "eve"]
    assert segment_count(KITCHEN_3_IN_14_NO_ORDER_30) == 2


def test_groups_and_counts(people):
    Profile.objects.filter(pk=people["bob"].pk).update(order_count=4, revenue=Decimal("250"))
    any_rule = {"any": [{"attribute": "order_count", "op": "gte", "value": 3},
                        {"event": "Product Viewed", "op": "gte", "count": 5}]}
    assert _names(segment_matches(any_rule), people) == ["bob", "cat"]
    assert _names(segment_matches({"not": any_rule}), people) == ["ann", "dan", "eve"]
    at_most_two = {"event": "Product Viewed", "op": "lte", "count": 2}
    assert _names(segment_matches(at_most_two), people) == ["bob"]
    never_viewed_garden = {"event": "Product Viewed", "where": {"category": "Garden"}, "op": "eq", "count": 0}
    assert len(_names(segment_matches(never_viewed_garden), people)) == 5
    lapsed = {"attribute": "last_order_at", "op": "older_than_days", "value": 30}  # or never
    assert len(_names(segment_matches(lapsed), people)) == 5  # attributes not refreshed in this test


def test_consent_and_tags(people):
    consent_record(profile=people["ann"], channel="email", topic="newsletter", granted=True, source="account")
    consent_record(profile=people["bob"], channel="email", granted=True, source="checkout")
    consent_record(profile=people["bob"], channel="email", granted=False, source="unsubscribe")
    consent_record(profile=people["cat"], channel="email", granted=True, source="checkout")
    rule = {"consent": {"channel": "email", "topic": "newsletter"}}
    assert _names(segment_matches(rule), people) == ["ann", "cat"]
    people["dan"].tags.add("VIP")
    assert _names(segment_matches({"tag": "vip"}), people) == ["dan"]


def test_membership_records_joining_and_leaving(people, countries, product_in_stock):
    segment = Segment.objects.create(name="Kitchen browsers", rules=KITCHEN_3_IN_14_NO_ORDER_30)
    assert segment_refresh(segment) == (2, 0)
    assert segment_refresh(segment) == (0, 0)  # nothing changed: nothing recorded
    _views(people["bob"].person_key, "Kitchen", 1, 1)  # bob's third view: he joins
    _order(people["ann"].user, 0, countries, product_in_stock)  # ann orders: she leaves
    assert segment_refresh(segment, profile_ids={people["bob"].pk, people["ann"].pk}) == (1, 1)
    segment.refresh_from_db()
    assert segment.member_count == 2
    ann = SegmentMembership.objects.get(segment=segment, profile=people["ann"])
    assert ann.left_at is not None and ann.left_at >= ann.joined_at
    current = SegmentMembership.objects.filter(segment=segment, left_at=None)
    assert _names(set(current.values_list("profile_id", flat=True)), people) == ["bob", "eve"]


@pytest.mark.parametrize(("rule", "message"), [
    ([], "a rule is a JSON object"),
    ({"all": []}, "rules.all: a group needs a non-empty list"),
    ({"all": [{"attribute": "shoe_size", "op": "eq", "value": 9}]}, "rules.all\\[0\\].attribute: unknown attribute"),
    ({"attribute": "order_count", "op": "gte", "value": "two"}, "compared with a number"),
    ({"event": "Product Viewed", "count": -1}, "rules.count: a whole number"),
    ({"event": "Product Viewed", "within_days": 0}, "a number of days from 1"),
    ({"event": "Product Viewed", "where": {"category; drop table": "x"}}, "property names"),
    ({"any": [{"consent": {"channel": "fax"}}]}, "email or sms"),
    ({"frobnicate": 1}, "unknown rule"),
])
def test_malformed_rules_are_explained(rule, message):
    with pytest.raises(RuleError, match=message):
        validate(rule)
