"""Training on the shop's own events and orders, publishing to Redis, and serving with
the fallback chain and the shop's rules (real PostgreSQL and Redis)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from recommender.models import ModelVersion
from recommender.serving import recommendations_for
from recommender.training import train_version
from tests.helpers import place_order
from tracking.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]
NOW = timezone.now()


def _titles(recs):
    return [r.product.title for r in recs]


def test_train_publish_and_serve_with_rules(shop):
    products, users = shop
    version = train_version()
    assert version.status == ModelVersion.SERVING and version.items == 6 and version.users == 12
    for_you = recommendations_for(person=str(users[0].pk), k=5)
    assert for_you and for_you[0].product == products["tea"] and for_you[0].source == "for_you"
    titles = _titles(for_you)
    assert "teapot" not in titles and "saucer" not in titles  # sold out; not public
    assert len(titles) == len(set(titles))
    discover = _titles(recommendations_for(slot="discover", person=str(users[0].pk), k=5))
    assert "tea" not in discover  # bought before
    together = recommendations_for(slot="bought_together", product=products["tea"], k=3)
    assert together[0].product == products["cup"] and products["tea"] not in [r.product for r in together]


def test_fallbacks_fill_every_slot(shop):
    products, _users = shop
    train_version()
    stranger = recommendations_for(person="anon:never-seen", k=3)
    assert len(stranger) == 3 and {r.source for r in stranger} == {"popular"}
    assert recommendations_for(slot="similar", product=products["green-tea"], k=4)


def test_nothing_in_the_basket_is_recommended(shop):
    from oscar.test.factories import create_basket

    products, users = shop
    train_version()
    basket = create_basket(empty=True)
    basket.add_product(products["tea"])
    assert products["tea"] not in [r.product for r in recommendations_for(person=str(users[0].pk), basket=basket)]


def test_nothing_published_or_redis_down_gives_an_empty_slot_not_an_error(shop, settings):
    assert recommendations_for(person="1") == []  # nothing trained yet
    train_version()
    working, settings.REDIS_URL = settings.REDIS_URL, "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        assert recommendations_for(person="1") == []
    finally:
        settings.REDIS_URL = working
    with pytest.raises(ValueError, match="unknown slot"):
        recommendations_for(slot="everything")


def test_an_empty_store_fails_cleanly_and_keeps_the_serving_version(db, shop):
    first = train_version()
    Event.objects.all().delete()
    from oscar.core.loading import get_model

    get_model("order", "Line").objects.all().delete()
    with pytest.raises(CommandError, match="training failed: the dataset is empty"):
        call_command("recommender_train", verbosity=0)
    assert ModelVersion.objects.get(pk=first.pk).status == ModelVersion.SERVING


def test_the_customer_card_shows_their_recommendations(shop, make_staff):
    from ecrm.services import profiles_refresh
    from shop.roles import SUPPORT

    products, users = shop
    train_version()
    profiles_refresh(person_keys={str(users[0].pk)})
    from ecrm.models import Profile

    client = Client()
    client.force_login(make_staff("support@example.com", group=SUPPORT))
    page = client.get(f"/dashboard/customers/support-desk/{Profile.objects.get().pk}/?tab=recommendations")
    html = page.content.decode()
    assert page.status_code == 200 and "Never bought before" in html and "Buy again" in html, (
        html[html.find("nav-tabs"):][:3000])
    assert "<td>tea</td>" in html and "for_you" in html


def test_a_product_that_sells_out_stops_being_recommended(shop):
    from recommender.catalogue import _log_change, catalogue

    products, _users = shop
    train_version()
    together = lambda: [r.product for r in recommendations_for(slot="bought_together", product=products["tea"])]  # noqa: E731
    assert products["cup"] in together()
    stock = products["cup"].stockrecords.get()
    stock.num_in_stock = 0
    stock.save()  # this process forgets at once
    assert products["cup"] not in together()
    # Another process learns it from the version in Redis, within seconds.
    stock.num_in_stock = 500  # more than the orders allocated
    stock.save()
    assert products["cup"] in together()
    mug = products["mug"].stockrecords.get()
    assert products["mug"] in [r.product for r in recommendations_for(slot="similar", product=products["tea"])]
    type(stock).objects.filter(pk=stock.pk).update(num_in_stock=0)  # no signal: as if elsewhere
    _log_change(products["cup"].pk)  # what the other process's commit appended
    catalogue._follower.checked_at = 0  # the check interval has passed
    assert products["cup"] not in together()
    assert str(products["mug"].pk) in catalogue._entries  # the rest of the cache stays warm
    assert mug.num_in_stock > 0


def test_serving_makes_no_database_query_once_warm(shop, django_assert_num_queries):
    products, users = shop
    train_version()
    recommendations_for(person=str(users[0].pk))
    recommendations_for(slot="bought_together", product=products["tea"])
    with django_assert_num_queries(0):
        recommendations_for(person=str(users[0].pk))
        recommendations_for(slot="bought_together", product=products["tea"])


def test_versions_dashboard_roll_back_and_retrain_permissions(shop, make_staff):
    from recommender.publish import client, current_key
    from shop.roles import MARKETING, SUPPORT

    first = train_version()
    second = train_version()
    assert ModelVersion.objects.get(pk=first.pk).status == ModelVersion.RETIRED
    marketing = Client()
    marketing.force_login(make_staff("m@example.com", group=MARKETING))
    page = marketing.get("/dashboard/recommender/").content.decode()
    assert f"v{second.pk}" in page and "reco-metrics" in page and "Serve again" in page
    assert "Retrain with a full search" in page and "full search" in page and "refit" in page
    assert marketing.post(f"/dashboard/recommender/{first.pk}/serve/").status_code == 302
    assert ModelVersion.objects.get(pk=first.pk).status == ModelVersion.SERVING
    assert client().get(current_key()) == str(first.pk)
    assert recommendations_for(person="anon:x")  # the rolled-back version serves
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get("/dashboard/recommender/").status_code == 403
    assert support.post("/dashboard/recommender/retrain/").status_code == 403


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_training_task_runs_on_a_real_worker(shop, worker):
    """What beat and the dashboard's button queue: a real Celery worker trains and publishes a version
    (under the default prefix and model directory, which the worker process reads from settings)."""

    from recommender.tasks import train
    from tests.helpers import wait_for

    train.apply_async(queue=worker)
    assert wait_for(lambda: ModelVersion.objects.filter(status=ModelVersion.SERVING).exists(), timeout=120), (
        "the worker did not train a version")


@pytest.fixture
def loyal_customers(countries):
    """Each customer keeps rebuying their own favourite: personal models beat popularity."""
    from oscar.test.factories import create_product

    products = [create_product(title=f"p{i}", upc=f"P{i}", price=Decimal("3.00"), num_in_stock=500)
                for i in range(4)]
    for i in range(12):
        user = get_user_model().objects.create_user(f"loyal{i}", f"loyal{i}@example.com", "pw")
        for days in (40, 20, 2):
            place_order(products[i % 4], user=user, placed_at=NOW - timedelta(days=days))
    return products


def test_the_promotion_gate_refuses_a_worse_model(loyal_customers, settings, capsys):
    first = train_version()
    assert first.status == ModelVersion.SERVING and first.chosen["next"]["kind"] != "popularity"
    # A configuration that can only choose popularity: worse than the serving one.
    settings.RECOMMENDER_TRAINING = {"time_budget_seconds": 5, "candidates": ["popularity"]}
    call_command("recommender_train", verbosity=0)
    worse = ModelVersion.objects.order_by("-pk").first()
    assert worse.status == ModelVersion.REJECTED and "next order: NDCG@10" in worse.note
    assert "not served, worse than the serving version" in capsys.readouterr().out
    assert ModelVersion.objects.get(pk=first.pk).status == ModelVersion.SERVING
    from recommender.publish import client, current_key

    assert client().get(current_key()) == str(first.pk)
    # The same configuration as the serving one is not worse: it serves.
    settings.RECOMMENDER_TRAINING = {"time_budget_seconds": 5}
    assert train_version().status == ModelVersion.SERVING


def test_tokens_survive_a_round_trip_through_tracking(shop, client, stream_name):
    """The token a rendered slot carries comes back in the tracker's "Product Clicked"
    event and still says which version, slot and position showed which product."""
    import json as json_module

    from django.template import Context, Template
    from django.test import RequestFactory

    from recommender.tokens import read_token
    from tests.tracking.conftest import basic_auth
    from tracking.consumer import consume_once, ensure_group
    from tracking.models import WriteKey

    products, users = shop
    version = train_version()
    request = RequestFactory().get("/")
    request.user, request.tracking_anonymous_id = users[0], ""
    html = Template('{% load recommendations %}{% recommendations "bought_together" product=product k=2 as items %}'
                    '{% include "recommender/partials/slot.html" with title="Goes with it" %}').render(
        Context({"request": request, "product": products["tea"]}))
    token = html.split('data-ecrm-token="')[1].split('"')[0]
    assert read_token(token) == {"version": version.pk, "slot": "bought_together", "position": 1,
                                 "product_id": str(products["cup"].pk)}
    assert read_token(token[:-1] + "x") is None and read_token("made-up") is None

    ensure_group()
    _key, raw = WriteKey.generate(name="test", kind=WriteKey.SERVER)
    body = {"event": "Product Clicked", "anonymousId": "v-1", "messageId": "click-1",
            "properties": {"token": token, "product_id": str(products["cup"].pk)}}
    assert client.post("/tracking/v1/track", data=json_module.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=basic_auth(raw)).status_code == 200
    while consume_once("test", block_ms=50):
        pass
    stored = Event.objects.get(message_id="click-1")
    assert read_token(stored.properties["token"])["slot"] == "bought_together"


def test_the_rest_endpoint_answers_for_whoever_asks(shop, client):
    products, users = shop
    train_version()
    client.force_login(users[0])
    mine = client.get("/api/recommendations/", {"slot": "for_you", "k": 3}).json()
    assert mine[0]["title"] == "tea" and mine[0]["token"] and len(mine) == 3
    together = client.get("/api/recommendations/", {"slot": "bought_together", "product": products["tea"].pk})
    assert together.status_code == 200 and together.json()[0]["title"] == "cup"
    for bad, field in (({"slot": "everything"}, "slot"), ({"k": "many"}, "k"), ({"k": 500}, "k"),
                       ({"slot": "similar"}, "product"), ({"product": "abc"}, "product")):
        response = client.get("/api/recommendations/", bad)
        assert response.status_code == 400 and field in response.json(), bad
    assert client.get("/api/recommendations/", {"product": 987654}).status_code == 404
    assert client.get("/api/recommendations/", {"product": products["saucer"].pk}).status_code == 404  # hidden


def test_slot_report_counts_impressions_clicks_and_attributed_revenue(shop, make_staff):
    from django.template import Context, Template
    from django.test import RequestFactory

    from recommender.attribution import slot_report
    from shop.roles import MARKETING

    products, users = shop
    version = train_version()
    request = RequestFactory().get("/")
    request.user, request.tracking_anonymous_id = users[2], ""  # never bought a cup (cups are bought once)
    html = Template('{% load recommendations %}{% recommendations "bought_together" product=product k=2 as items %}'
                    '{% include "recommender/partials/slot.html" with title="x" slot="bought_together" %}').render(
        Context({"request": request, "product": products["tea"]}))
    token = html.split('data-ecrm-token="')[1].split('"')[0]
    # The shopper clicks the first item (a cup), then buys it the next moment.
    Event.objects.create(message_id="click-9", type="track", event="Product Clicked", user_id=str(users[2].pk),
                         timestamp=NOW, received_at=NOW, source="browser", properties={"token": token})
    Event.objects.create(message_id="click-forged", type="track", event="Product Clicked", user_id="x",
                         timestamp=NOW, received_at=NOW, source="browser", properties={"token": "forged"})
    order = place_order(products["cup"], quantity=2, user=users[2])
    (row,) = [r for r in slot_report(days=1) if r["slot"] == "bought_together"]
    assert row == {"version": version.pk, "slot": "bought_together", "impressions": 2, "clicks": 1, "ctr": 0.5,
                   "orders": 1, "revenue": float(order.lines.get().line_price_incl_tax)}
    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    page = client.get("/dashboard/recommender/slots/?days=7").content.decode()
    assert "bought_together" in page and "slot-chart" in page and "50 %" in page


def test_train_if_none_serving_trains_once(shop, capsys):
    call_command("recommender_train", "--if-none-serving", verbosity=1)
    call_command("recommender_train", "--if-none-serving", verbosity=1)
    assert ModelVersion.objects.count() == 1
    assert "already serving; nothing to do" in capsys.readouterr().out


def test_retrains_refit_the_searched_choice_until_a_search_is_due(loyal_customers, settings):
    """The nightly retrain refits the serving version's configurations; a search runs when
    asked for, when the data changed a lot, when the last one is a week old, and when a
    refit measures well below its search. Each version records which it was."""
    from django.core.management import call_command

    first = train_version()
    assert first.metrics["mode"] == "search" and first.metrics["searched"]["version"] == first.pk
    second = train_version()
    assert second.status == ModelVersion.SERVING and second.metrics["mode"] == "refit"
    assert second.chosen == first.chosen and second.metrics["searched"] == first.metrics["searched"]
    assert f"v{first.pk} chose" in second.metrics["reason"]
    assert train_version(search=True).metrics["mode"] == "search"
    call_command("recommender_train", verbosity=0, search=True)
    assert ModelVersion.objects.order_by("-pk").first().metrics["mode"] == "search"
    # Much more data than the last search saw.
    from oscar.test.factories import create_product

    extra = create_product(title="extra", upc="EXTRA", price=Decimal("3.00"), num_in_stock=500)
    for i in range(12):
        place_order(extra, user=get_user_model().objects.get(username=f"loyal{i}"), placed_at=NOW - timedelta(days=1))
    grown = train_version()
    assert grown.metrics["mode"] == "search" and "interactions changed" in grown.metrics["reason"]
    assert train_version().metrics["mode"] == "refit"
    # The last search a week old.
    serving = ModelVersion.objects.get(status=ModelVersion.SERVING)
    serving.metrics["searched"]["at"] -= 8 * 86400
    serving.save()
    old = train_version()
    assert old.metrics["mode"] == "search" and "days old" in old.metrics["reason"]
    # A refit measuring far below what its search measured: the data drifted, search again.
    serving = ModelVersion.objects.get(status=ModelVersion.SERVING)
    serving.metrics["searched"]["ndcg"] = {"next": 1.0, "new": 1.0}
    serving.save()
    drifted = train_version()
    assert drifted.metrics["mode"] == "search" and drifted.metrics["reason"].startswith("the refit's holdout")
    settings.RECOMMENDER_TRAINING = {"time_budget_seconds": 4}  # another configuration: search
    assert "configuration changed" in train_version().metrics["reason"]
