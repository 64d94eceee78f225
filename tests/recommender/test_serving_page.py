"""``recommendations_for_slots`` (the slots of one page, served together) gives each slot
exactly what ``recommendations_for`` gives it alone — for a customer, an anonymous visitor
with a session and nobody — and makes its Redis reads in one round trip while the serving
version stays the same, two just after a new one is published (real PostgreSQL and Redis)."""

import time
from contextlib import contextmanager

import pytest
import redis

from recommender.recent import recent_record
from recommender.serving import recommendations_for, recommendations_for_slots
from recommender.training import train_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]
PRODUCT_PAGE = ["bought_together", "upsell", "recently_viewed"]


@contextmanager
def round_trips(monkeypatch):
    """The round trips to Redis (a command, or a pipeline's execution) made inside, but for
    the catalogue's look at its change log (every few seconds, whatever is served)."""
    counted = []
    command, execute = redis.Redis.execute_command, redis.client.Pipeline.execute

    def one_command(self, *args, **options):
        if "catalogue-changes" not in str(args[1:2]):
            counted.append(args[0])
        return command(self, *args, **options)

    def one_pipeline(self, *args, **options):
        counted.append("pipeline")
        return execute(self, *args, **options)

    with monkeypatch.context() as patch:
        patch.setattr(redis.Redis, "execute_command", one_command)
        patch.setattr(redis.client.Pipeline, "execute", one_pipeline)
        yield counted


def _viewed(person, *products):
    now = time.time()
    recent_record({person: [(now - i, f"{product.pk}|view|{int(now - i)}") for i, product in
                            enumerate(reversed(products))]})


@pytest.mark.parametrize("who", ["customer", "visitor", "nobody"])
def test_each_slot_gets_what_it_gets_alone(shop, who):
    products, users = shop
    train_version()
    person = {"customer": str(users[0].pk), "visitor": "anon:page-visitor", "nobody": ""}[who]
    if person:
        _viewed(person, products["mug"], products["green-tea"])
    for product in (products["tea"], products["cup"]):
        together = recommendations_for_slots(PRODUCT_PAGE + ["similar"], person=person, product=product, k=4)
        assert list(together) == PRODUCT_PAGE + ["similar"]
        for slot, items in together.items():
            assert items == recommendations_for(slot=slot, person=person, product=product, k=4), (who, slot)
            assert items and all(rec.url == rec.product.get_absolute_url() for rec in items)


def test_a_pages_reads_take_one_round_trip_while_the_version_stays(shop, monkeypatch):
    products, users = shop
    first = train_version()
    person = str(users[0].pk)
    recommendations_for_slots(PRODUCT_PAGE, person=person, product=products["tea"], k=4)  # learns the version
    with round_trips(monkeypatch) as counted:
        page = recommendations_for_slots(PRODUCT_PAGE, person=person, product=products["tea"], k=4)
    assert counted == ["pipeline"] and {rec.version for items in page.values() for rec in items} == {first.pk}
    second = train_version()  # published: serving moves to it
    with round_trips(monkeypatch) as counted:
        page = recommendations_for_slots(PRODUCT_PAGE, person=person, product=products["tea"], k=4)
    assert counted == ["pipeline", "pipeline"] and {rec.version for items in page.values() for rec in items} == {
        second.pk}


def test_an_unknown_slot_is_refused_before_redis_is_asked(shop):
    with pytest.raises(ValueError, match="unknown slot 'everything'"):
        recommendations_for_slots(["upsell", "everything"], product=shop[0]["tea"])
