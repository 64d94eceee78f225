"""Recommendations that follow what a person did a moment ago, without retraining: session
neighbours for visitors ("because you viewed …"), and factors recalculated on the fly for
customers the model has not seen (real PostgreSQL and Redis; events stored by tracking's
consumer code)."""

import uuid
from datetime import timedelta

import numpy as np
import pytest
import scipy.sparse as sp
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from recommender.defaults import setting
from recommender.foldin import fold_in, state_of, transformed
from recommender.recent import recent_key
from recommender.serving import recommendations_for
from recommender.training import train_version
from tracking.consumer import consume_once, ensure_group, store_events
from tracking.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]


def _store(capture, *events):
    """Store events as tracking's consumer does (identities, sessions, the stored signal),
    and run what waits for its commit."""
    rows = [Event(message_id=uuid.uuid4().hex, type="track", received_at=timezone.now(), source="browser",
                  **{"timestamp": timezone.now(), **fields}) for fields in events]
    with capture(execute=True):
        store_events([(row, {}) for row in rows])


def _viewed(product, **who):
    return {"event": "Product Viewed", "properties": {"product_id": str(product.pk)}, **who}


def _summary(recs):
    return [(r.product.title, r.source, r.because.title if r.because else None) for r in recs]


def test_a_visitor_who_views_two_products_gets_their_neighbours_at_once(
        shop, client, stream_name, django_capture_on_commit_callbacks):
    products, _users = shop
    train_version()
    ensure_group()
    before = client.get("/api/recommendations/", {"k": 4}).json()
    assert {item["source"] for item in before} == {"popular"} and before[0]["because"] is None
    with django_capture_on_commit_callbacks(execute=True):  # the shop queues its events on commit
        assert client.get(products["cup"].get_absolute_url()).status_code == 200
        assert client.get(products["green-tea"].get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the consumer stores them
        while consume_once("test", block_ms=50):
            pass
    visitor = client.cookies["ecrm_aid"].value
    recs = recommendations_for(person=f"anon:{visitor}", k=4)
    # Tea is bought with cups; mugs are looked at with green tea (the teapot is sold out,
    # the saucer hidden); what was just viewed is not offered back as "session".
    assert sorted(_summary(recs[:2])) == [("mug", "session", "green-tea"), ("tea", "session", "cup")]
    assert not {("cup", "session"), ("green-tea", "session")} & {(r.product.title, r.source) for r in recs}
    answer = client.get("/api/recommendations/", {"k": 4}).json()
    assert answer[0]["source"] == "session" and answer[0]["because"]["title"] in ("cup", "green-tea")
    assert answer[0]["because"]["product_id"] in (products["cup"].pk, products["green-tea"].pk)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    assert "because" in schema["Recommendation"]["properties"] and "Because" in schema
    request = RequestFactory().get("/")
    request.user, request.tracking_anonymous_id = AnonymousUser(), visitor
    request.ecrm_shared = False  # the visitor's own slot, as the deferred fragment renders it
    html = Template('{% load recommendations %}{% recommendations "for_you" k=4 as items %}'
                    '{% include "recommender/partials/slot.html" with title="For you" slot="for_you" %}').render(
        Context({"request": request}))
    assert "Because you viewed cup" in html and "Because you viewed green-tea" in html


def test_content_and_the_session_fill_product_slots_their_own_lists_leave_empty(
        shop, django_capture_on_commit_callbacks):
    products, _users = shop
    train_version()
    # Nobody viewed cups alongside other products: a cup's "viewed with it" list is empty, and
    # look-alikes by content (the other cup first: same category and class) fill "similar".
    cup_similar = recommendations_for(slot="similar", product=products["cup"], k=3)
    assert _summary(cup_similar)[0] == ("mug", "content", None) and {r.source for r in cup_similar} == {"content"}
    # Nobody bought mugs: their "bought together" has only what is viewed with them (green tea),
    # then the category. A visitor who just viewed a cup gets its neighbours (tea, bought with
    # cups) before that fill.
    alone = recommendations_for(slot="bought_together", product=products["mug"], k=3)
    assert _summary(alone)[0] == ("green-tea", "similar", None) and "session" not in {r.source for r in alone}
    _store(django_capture_on_commit_callbacks, _viewed(products["cup"], anonymous_id="tablet-7"))
    recs = recommendations_for(slot="bought_together", product=products["mug"], person="anon:tablet-7", k=3)
    assert _summary(recs)[:2] == [("green-tea", "similar", None), ("tea", "session", "cup")] and len(recs) == 3
    assert products["mug"] not in [r.product for r in recs]


def test_activity_is_kept_per_person_capped_and_expiring(shop, settings, django_capture_on_commit_callbacks):
    from recommender.publish import client

    products, users = shop
    settings.RECOMMENDER_RECENT_ITEMS = 3
    # A visitor linked to a customer: their browsing counts for the customer too.
    _store(django_capture_on_commit_callbacks, *[_viewed(products[name], anonymous_id="phone-1")
                                                 for name in ("tea", "cup", "mug", "green-tea")])
    for person in ("anon:phone-1", str(users[0].pk)):
        entries = client().lrange(recent_key(person), 0, -1)
        assert len(entries) == 3 and entries[0].startswith(f"{products['green-tea'].pk}|view|")
        assert 0 < client().ttl(recent_key(person)) <= setting("RECOMMENDER_RECENT_TTL_SECONDS")
    # A guest's order (tracking's "guest:<email>" owner) belongs to their e-mail person key.
    _store(django_capture_on_commit_callbacks, {"event": "Order Completed", "anonymous_id": "guest:Ann@Example.com",
                                                "properties": {"products": [{"product_id": str(products["cup"].pk)}]}})
    assert client().lrange(recent_key("email:ann@example.com"), 0, -1)[0].startswith(f"{products['cup'].pk}|purchase|")
    # History (an import, a replay of old events) is not recent activity.
    _store(django_capture_on_commit_callbacks, {**_viewed(products["tea"], anonymous_id="old-laptop"),
                                                "timestamp": timezone.now() - timedelta(days=400)})
    assert not client().exists(recent_key("anon:old-laptop"))


def test_a_brand_new_customer_gets_personal_results_from_their_own_events(
        shop, django_capture_on_commit_callbacks):
    from implicit.cpu.als import AlternatingLeastSquares

    from recommender import artifact

    products, _users = shop
    version = train_version()
    newcomer = get_user_model().objects.create_user("new", "new@example.com", "pw")
    assert {r.source for r in recommendations_for(person=str(newcomer.pk), k=3)} == {"popular"}
    _store(django_capture_on_commit_callbacks, _viewed(products["mug"], user_id=str(newcomer.pk)),
           {"event": "Product Added", "properties": {"product_id": str(products["green-tea"].pk)},
            "user_id": str(newcomer.pk)})
    recs = recommendations_for(person=str(newcomer.pk), k=4)
    # The same ranking as implicit's own recalculation of this customer on the version's item factors.
    model = artifact.load(version.path)
    params = model.meta["factors"]["params"]
    als = AlternatingLeastSquares(factors=model.item_factors.shape[1], regularization=params["regularization"],
                                  alpha=params["alpha"])
    als.item_factors = model.item_factors
    index = {item: i for i, item in enumerate(model.item_ids)}
    weights = {str(products["mug"].pk): 1.0, str(products["green-tea"].pk): 3.0}
    cols = [index[item] for item in weights]
    row = sp.csr_matrix((transformed(list(weights.values()), params["transform"]).astype(np.float32),
                         ([0] * len(cols), cols)), shape=(1, len(index)))
    expected = model.item_ids[np.argsort(-(model.item_factors @ als.recalculate_user(0, row)), kind="stable")]
    buyable = [item for item in expected if item not in (str(products["teapot"].pk), str(products["saucer"].pk))]
    fresh = [str(r.product.pk) for r in recs if r.source == "fresh"]
    assert len(fresh) == 4 and fresh == buyable[:4]


def test_a_known_customer_whose_activity_is_newer_than_the_model_is_folded_in_again(
        shop, django_capture_on_commit_callbacks):
    from recommender.publish import client

    products, users = shop
    version = train_version()
    person = str(users[2].pk)  # bought tea only, three times
    assert recommendations_for(person=person, k=3)[0].source == "for_you"
    # An event the model already had time to learn from (older than its data) changes nothing...
    older = timezone.now() - timedelta(days=2)  # recent, but the shop's data runs to a day ago
    assert older.timestamp() < state_of(version.pk).trained_until
    _store(django_capture_on_commit_callbacks, {**_viewed(products["mug"], user_id=person), "timestamp": older})
    assert client().llen(recent_key(person)) == 1
    assert recommendations_for(person=person, k=3)[0].source == "for_you"
    # ...one after it is folded in with what they bought.
    _store(django_capture_on_commit_callbacks, _viewed(products["cup"], user_id=person))
    recs = recommendations_for(person=person, k=3)
    assert recs[0].source == "fresh" and "tea" in [r.product.title for r in recs]
    discover = recommendations_for(slot="discover", person=person, k=3)
    assert "tea" not in [r.product.title for r in discover]  # still never what they bought


def test_published_item_factors_are_the_models_bytes_for_bytes(shop):
    from recommender import artifact

    version = train_version()
    model = artifact.load(version.path)
    state = state_of(version.pk)
    assert state.Y.dtype == np.float32 and np.array_equal(state.Y, model.item_factors)
    assert list(state.item_ids) == list(model.item_ids) and state_of(version.pk) is state  # cached per process
    assert np.allclose(state.YtY, model.item_factors.T.astype(np.float64) @ model.item_factors)


def test_fold_in_equals_implicits_recalculate_user_and_a_full_refit(synthetic):
    """Pure numpy: for the same row, our solve is implicit's ``recalculate_user``; and a
    customer folded in from their own row lands where the full fit put them."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    from recommender.rankers.base import profile

    X = profile(synthetic, "log")
    with threadpool_limits(1, "blas"):
        als = AlternatingLeastSquares(factors=16, regularization=0.5, alpha=10.0, iterations=30, random_state=0,
                                      use_cg=False)
        als.fit(X, show_progress=False)
    Y = np.asarray(als.item_factors)
    YtY = Y.T.astype(np.float64) @ Y
    for user in range(0, 40, 7):
        row = X[user]
        ours = fold_in(Y, YtY, row.indices, row.data, 0.5, 10.0)
        assert np.allclose(ours, als.recalculate_user(user, row), rtol=1e-3, atol=1e-4)
        fitted = np.asarray(als.user_factors[user], dtype=np.float64)
        assert ours @ fitted / (np.linalg.norm(ours) * np.linalg.norm(fitted)) > 0.99
        top = lambda x: set(np.argsort(-(Y @ x))[:10])  # noqa: E731
        assert len(top(ours) & top(fitted)) >= 8


def test_a_product_taken_out_of_the_basket_stops_driving_suggestions():
    from recommender.recent import Recent

    weights = {"view": 1.0, "add_to_basket": 3.0, "remove": -2.0, "purchase": 5.0}
    recent = Recent.parse(["7|remove|30", "8|view|20", "7|view|10"], weights)
    assert recent.items == ["8"] and recent.weights["7"] == -1.0 and recent.latest == 30
    assert Recent.parse(["7|remove|30", "7|add_to_basket|20", "9|purchase|5"], weights).items == ["7", "9"]


def test_bad_real_time_settings_are_reported_by_the_system_checks(settings):
    from recommender.checks import check_settings

    assert check_settings() == []
    settings.RECOMMENDER_SESSION_DECAY, settings.RECOMMENDER_RECENT_ITEMS = 0, "20"
    errors = {error.msg.split()[0] for error in check_settings()}
    assert errors == {"RECOMMENDER_SESSION_DECAY", "RECOMMENDER_RECENT_ITEMS"}


def test_a_version_without_item_factors_serves_new_customers_their_session(shop, django_capture_on_commit_callbacks):
    """Model directories written before fold-in existed have no factors.npz: they publish
    and serve as before, and a new customer gets the neighbours of what they viewed."""
    from pathlib import Path

    from recommender import artifact
    from recommender.publish import client, key, publish

    products, _users = shop
    version = train_version()
    (Path(version.path) / "factors.npz").unlink()
    client().delete(key(version.pk, "factors"), key(version.pk, "factors:meta"))
    publish(version.pk, artifact.load(version.path))
    assert state_of(version.pk).Y is None
    newcomer = get_user_model().objects.create_user("new", "new@example.com", "pw")
    _store(django_capture_on_commit_callbacks, _viewed(products["green-tea"], user_id=str(newcomer.pk)))
    assert _summary(recommendations_for(person=str(newcomer.pk), k=2))[0] == ("mug", "session", "green-tea")


def test_a_folded_in_for_you_list_leans_on_purchases_as_the_trained_blend_does():
    from recommender.foldin import VersionState

    rng = np.random.default_rng(0)
    Y = rng.normal(size=(30, 8)).astype(np.float32)
    ids = np.array([str(i) for i in range(30)], dtype=object)

    def state(repeat_weight):
        return VersionState(0.0, {}, repeat_weight, Y, Y.T.astype(np.float64) @ Y, ids,
                            {item: i for i, item in enumerate(ids)}, regularization=0.1, alpha=5.0)

    weights = {"3": 1.0, "4": 3.0, "5": 5.0}
    discovery = state(0.0).recommend(weights, {"5"}, discover=False, n=30)
    assert sorted(discovery) == sorted(ids)  # every item, ranked by the folded-in factors alone
    for w in (0.9, 1.0):  # "buy again" first, as the blend weight says
        assert state(w).recommend(weights, {"5", "17"}, discover=False, n=5)[:2] in (["5", "17"], ["17", "5"])
    assert state(0.9).recommend(weights, {"5"}, discover=False, n=5)[0] == "5"
    assert "5" not in state(0.9).recommend(weights, {"5"}, discover=True, n=30)
    assert state(0.0).recommend({"99": 1.0}, set(), discover=False, n=5) == []  # nothing the model knows


def test_erasing_a_customer_forgets_their_recent_activity_and_lists(shop, django_capture_on_commit_callbacks):
    """The shop registers ``recommender.privacy.personal_data`` in ``ECRM_PERSONAL_DATA``: the
    customer's export holds their recent activity, and their erasure forgets it once committed."""
    from ecrm.models import Profile
    from ecrm.privacy import customer_erase, export_files, person_identities
    from ecrm.services import profiles_refresh
    from recommender.publish import client, key

    products, users = shop
    version = train_version()
    person = str(users[0].pk)
    _store(django_capture_on_commit_callbacks, _viewed(products["mug"], anonymous_id="phone-1"))  # linked to them
    assert client().exists(recent_key(person), recent_key("anon:phone-1")) == 2
    assert client().hexists(key(version.pk, "for_you"), person)
    assert client().hexists(key(version.pk, "buy_again"), person)  # tea, their repeat purchase
    profiles_refresh(person_keys={person})
    exported = export_files(person_identities(Profile.objects.get(person_key=person)))
    assert {entry["product_id"] for entry in exported["recent_product_activity.json"]} == {str(products["mug"].pk)}
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(Profile.objects.get(person_key=person), staff=None)
    assert client().exists(recent_key(person), recent_key("anon:phone-1")) == 0
    assert not client().hexists(key(version.pk, "for_you"), person)
    assert not client().hexists(key(version.pk, "buy_again"), person)
    assert {r.source for r in recommendations_for(person=person, k=2)} == {"popular"}
