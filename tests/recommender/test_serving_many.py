"""``recommendations_for_many`` (a broadcast's delivery batch) gives every person exactly
what ``recommendations_for`` gives them alone — known customers, a customer whose activity
is newer than the model (folded in), a brand-new one, an anonymous visitor with a session,
someone nobody knows — with its Redis reads made for all of them at once (real PostgreSQL and Redis)."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from recommender.experiments import running_key
from recommender.publish import client
from recommender.serving import recommendations_for, recommendations_for_many
from recommender.training import train_version
from tracking.consumer import store_events
from tracking.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]


def _store(capture, *events):
    rows = [Event(message_id=uuid.uuid4().hex, type="track", received_at=timezone.now(), source="browser",
                  **{"timestamp": timezone.now(), **fields}) for fields in events]
    with capture(execute=True):
        store_events([(row, {}) for row in rows])


def _viewed(product, **who):
    return {"event": "Product Viewed", "properties": {"product_id": str(product.pk)}, **who}


def _commands() -> int:
    return int(client().info("stats")["total_commands_processed"])


@pytest.fixture
def people(shop, django_capture_on_commit_callbacks):
    products, users = shop
    train_version()
    newcomer = get_user_model().objects.create_user("new-many", "new-many@example.com", "pw")
    folded = str(users[2].pk)
    _store(django_capture_on_commit_callbacks, _viewed(products["cup"], user_id=folded),
           _viewed(products["mug"], user_id=str(newcomer.pk)), _viewed(products["tea"], anonymous_id="many-visitor"),
           _viewed(products["cup"], anonymous_id="many-visitor"),
           {**_viewed(products["mug"], user_id=str(users[0].pk)), "timestamp": timezone.now() - timedelta(days=2)})
    return [str(user.pk) for user in users] + [str(newcomer.pk), "anon:many-visitor", "email:nobody@example.com", ""]


def _same(batched, person, slot, k):
    alone = recommendations_for(slot=slot, person=person, k=k)
    assert batched == alone, f"{slot} for {person!r}"
    return alone


@pytest.mark.parametrize("slot", ["for_you", "discover", "buy_again", "recently_viewed", "trending"])
def test_the_batch_gives_everyone_what_they_get_alone(people, slot):
    many = recommendations_for_many(people, slot=slot, k=4)
    assert list(many) == list(dict.fromkeys(people))
    picked = [_same(many[person], person, slot, 4) for person in people]
    if slot == "for_you":  # the fixture's people are not all served the same way
        sources = {rec.source for recs in picked for rec in recs}
        assert {"for_you", "fresh", "popular"} <= sources, sources


def test_the_batch_reads_no_more_than_the_single_calls(people):
    recommendations_for_many(people, slot="for_you", k=4)  # warm the catalogue and model caches
    before = _commands()
    for person in people:
        recommendations_for(slot="for_you", person=person, k=4)
    alone = _commands() - before
    before = _commands()
    recommendations_for_many(people, slot="for_you", k=4)
    batched = _commands() - before
    assert batched < alone, (batched, alone)  # shared reads (the version, popular) made once, none twice


def test_during_an_ab_test_each_person_is_served_by_their_own_arm(people):
    from recommender.experiments import arm_of
    from recommender.publish import current_key

    control = int(client().get(current_key()))
    variant = train_version().pk  # published too: both versions' lists are in Redis
    assert variant != control
    client().set(running_key(), f"901:{control}:{variant}:50")
    many = recommendations_for_many(people, slot="for_you", k=4)
    versions = set()
    for person in people:
        versions |= {rec.version for rec in _same(many[person], person, "for_you", 4)}
    assert {arm_of(person, 901, 50) for person in people if person} == {"control", "variant"}
    assert versions == {control, variant}
