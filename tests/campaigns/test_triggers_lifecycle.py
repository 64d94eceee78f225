"""Welcome, birthday, occasion reminders and segment entry/exit fire on their day, once per
window; bad settings are refused with the field named."""

from datetime import datetime, timezone

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Occasion
from campaigns.triggers.base import trigger_get
from ecrm.models import Segment, SegmentMembership
from tests.campaigns.trigger_data import at, customer, due, order_of, product

pytestmark = pytest.mark.django_db


def test_welcome_fires_after_registration_once_and_not_for_old_accounts():
    ada = customer("ada", joined=at(-1))
    customer("old", joined=at(days=-10))
    assert due("welcome", at(-1.01)) == {}
    found = due("welcome", at(-1))[ada.person_key]
    assert (found.window, found.context, found.at) == ("welcome", {}, at(-1))
    assert due("welcome", at(2), delay_hours=4) == {}
    assert ada.person_key in due("welcome", at(3), delay_hours=4)
    assert due("welcome", at(days=3)) == {}  # past max_age_hours (72)


def test_birthday_fires_days_before_on_the_store_calendar_once_a_year():
    ada = customer("ada", traits={"birthday": "1990-06-13"})
    leap = customer("leap", traits={"birthday": "2000-02-29"})
    newyear = customer("newyear", traits={"birthday": "--01-02"})
    customer("broken", traits={"birthday": "soon"})
    customer("odd", traits={"birthday": "1990-13-45"})

    assert ada.person_key not in due("birthday", at(days=-1))  # 4 days before
    found = due("birthday", at(0))[ada.person_key]  # 10 June: 3 days before the 13th
    assert found.window == "2026" and found.context == {"birthday": "2026-06-13"}
    assert found.at == datetime(2026, 6, 9, 23, 0, tzinfo=timezone.utc)  # midnight in London (BST)
    assert ada.person_key in due("birthday", at(days=3))
    assert ada.person_key not in due("birthday", at(days=4))
    assert due("birthday", datetime(2027, 2, 28, 12, tzinfo=timezone.utc), days_before=0)[leap.person_key].window == "2027"
    around_new_year = due("birthday", datetime(2026, 12, 31, 12, tzinfo=timezone.utc))
    assert around_new_year[newyear.person_key].window == "2027"
    assert due("birthday", at(0), trait="born_on") == {}


def test_occasion_reminder_brings_a_gift_selection_before_each_anniversary():
    ada, kettle, mug, vase = customer("ada"), product("Kettle"), product("Mug"), product("Vase")
    for n in range(3):
        order_of(None, vase, placed_at=at(days=-10 - n), email=f"v{n}@example.com")  # a best seller
    order_of(None, kettle, mug, placed_at=at(days=-40), email="pair@example.com")
    order = order_of(ada, kettle, placed_at=at(days=-300))
    occasion = Occasion.objects.create(person_key=ada.person_key, user=ada.user, order=order, recipient="Mum",
                                       kind=Occasion.BIRTHDAY, month=6, day=24, created_at=at(days=-300))
    assert due("occasion", at(days=-1)) == {}  # 15 days before: not yet
    found = due("occasion", at(0))[ada.person_key]
    assert found.window == f"{occasion.pk}:2026"
    assert found.context == {"occasion_id": occasion.pk, "product_ids": [mug.pk, vase.pk], "date": "2026-06-24"}
    assert due("occasion", at(days=15)) == {}  # the day has passed
    assert due("occasion", at(days=365))[ada.person_key].window == f"{occasion.pk}:2027"


def test_segment_joined_and_left_from_the_membership_history():
    segment = Segment.objects.create(name="VIP", kind=Segment.STATIC)
    ada, bob, cy = customer("ada"), customer("bob"), customer("cy")
    SegmentMembership.objects.create(segment=segment, profile=ada, joined_at=at(-5))
    SegmentMembership.objects.create(segment=segment, profile=bob, joined_at=at(-30), left_at=at(-2))
    SegmentMembership.objects.create(segment=segment, profile=cy, joined_at=at(days=-30))

    joined = due("segment_joined", at(0), segment=segment.pk)
    assert set(joined) == {ada.person_key, bob.person_key} - {bob.person_key}  # Bob has left already
    assert joined[ada.person_key].window == f"{segment.pk}:{at(-5).isoformat()}"
    assert joined[ada.person_key].context == {"segment_id": segment.pk}
    assert bob.person_key in due("segment_joined", at(-3), segment=segment.pk)
    assert due("segment_joined", at(days=-3), segment=segment.pk) == {}  # nobody had joined yet
    left = due("segment_left", at(0), segment=segment.pk)
    assert list(left) == [bob.person_key] and left[bob.person_key].window.endswith(":left")


def test_segment_settings_must_name_an_existing_segment():
    with pytest.raises(ValidationError, match="Segment: choose a segment"):
        trigger_get("segment_joined").settings_clean({})
    with pytest.raises(ValidationError, match="Segment: there is no segment with id 4242"):
        list(trigger_get("segment_left").due({"segment": 4242}, at(0)))
    with pytest.raises(ValidationError, match="Segment: 'vip' is not a segment id"):
        trigger_get("segment_joined").settings_clean({"segment": "vip"})
    with pytest.raises(ValidationError, match=r"Days before the birthday: at least 0"):
        trigger_get("birthday").settings_clean({"days_before": -1})
