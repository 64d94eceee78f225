"""Slots and business rules at serving time, against real PostgreSQL and Redis.

Lists are published straight into Redis under a version (what ``recommender.publish``
writes), so each test says exactly what the model proposed and checks what the rules let
through. Training itself is covered in test_shop_serving.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from recommender.catalogue import catalogue
from recommender.models import MerchandisingRule, RepurchasePolicy
from recommender.publish import client, current_key, key
from recommender.serving import recommendations_for

pytestmark = pytest.mark.django_db
VERSION = 7


@pytest.fixture(autouse=True)
def rule_settings(isolated, settings):
    settings.RECOMMENDER_CATEGORY_CAP = 3
    settings.RECOMMENDER_UPSELL_PRICE_RATIO = 1.5
    settings.RECOMMENDER_REPEATABLE_DEFAULT = False


@pytest.fixture
def store():
    """Kettles (bought once) from 20 to 60, cups (bought once), teas (bought again), a
    sold-out kettle and a hidden cup, in Kitchen > Kettles / Cups / Tea."""
    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    ProductCategory = get_model("catalogue", "ProductCategory")
    categories = {name: create_from_breadcrumbs(f"Kitchen > {name}") for name in ("Kettles", "Cups", "Tea")}
    p = {}
    for name, price, category, cls, stock in [
            ("kettle", "20.00", "Kettles", "Appliances", 9), ("kettle-plus", "28.00", "Kettles", "Appliances", 9),
            ("kettle-pro", "30.00", "Kettles", "Appliances", 9), ("kettle-luxe", "60.00", "Kettles", "Appliances", 9),
            ("kettle-gone", "25.00", "Kettles", "Appliances", 0),
            *[(f"cup-{i}", "8.00", "Cups", "Homeware", 9) for i in range(1, 6)],
            ("cup-hidden", "8.00", "Cups", "Homeware", 9),
            *[(f"tea-{c}", "5.00", "Tea", "Tea", 9) for c in "abcd"]]:
        p[name] = create_product(title=name, upc=name.upper(), price=Decimal(price), num_in_stock=stock,
                                 product_class=cls)
        ProductCategory.objects.create(product=p[name], category=categories[category])
    p["cup-hidden"].is_public = False
    p["cup-hidden"].save()
    RepurchasePolicy.objects.create(product_class=p["tea-a"].product_class, can_be_bought_again=True)
    return p, categories


def publish(**lists):
    """Publish ``name=list`` (popular, trending, popular:cat:Tea...) or ``name={owner: list}``
    (for_you, bought, similar...) of products, and serve that version."""
    r = client()
    for name, value in lists.items():
        name = name.replace("__", ":")
        ids = lambda items: ",".join(str(i.pk) for i in items)  # noqa: E731
        if isinstance(value, dict):
            r.hset(key(VERSION, name), mapping={str(getattr(o, "pk", o)): ids(v) for o, v in value.items()})
        else:
            r.set(key(VERSION, name), ids(value))
    r.set(current_key(), VERSION)


def titles(recs):
    return [r.product.title for r in recs]


def test_bought_durables_never_come_back_while_consumables_may(store):
    p, _ = store
    cups = [p[f"cup-{i}"] for i in range(1, 4)]
    publish(for_you={"u1": [p["kettle"], p["tea-a"], *cups]}, discover={"u1": [p["kettle-plus"], p["tea-a"]]},
            bought={"u1": [p["kettle"], p["tea-a"]]}, similar={p["kettle-plus"]: [p["kettle"], p["kettle-pro"]]},
            popular=[p["kettle"], p["tea-a"], p["cup-4"]], trending=[p["kettle"], p["tea-b"]])
    assert titles(recommendations_for(person="u1", k=4)) == ["tea-a", "cup-1", "cup-2", "cup-3"]
    assert "tea-a" not in titles(recommendations_for(slot="discover", person="u1", k=3))  # nothing bought at all
    assert "kettle" not in titles(recommendations_for(slot="similar", person="u1", product=p["kettle-plus"]))
    assert "kettle" not in titles(recommendations_for(slot="trending", person="u1"))
    # Someone else, who never bought the kettle, is shown it.
    assert titles(recommendations_for(slot="similar", person="u2", product=p["kettle-plus"], k=1)) == ["kettle"]


def test_the_repeat_policy_is_per_product_class_with_a_store_default(store, settings):
    p, _ = store
    publish(for_you={"u1": [p["kettle"], p["cup-1"], p["tea-a"]]}, bought={"u1": [p["kettle"], p["cup-1"], p["tea-a"]]},
            popular=[])
    assert titles(recommendations_for(person="u1")) == ["tea-a"]
    settings.RECOMMENDER_REPEATABLE_DEFAULT = True  # classes without a policy: bought again
    assert titles(recommendations_for(person="u1")) == ["kettle", "cup-1", "tea-a"]
    RepurchasePolicy.objects.create(product_class=p["kettle"].product_class, can_be_bought_again=False)
    assert titles(recommendations_for(person="u1")) == ["cup-1", "tea-a"]


def test_buy_again_shows_the_persons_repeat_ranking_of_consumables_then_popular_ones(store):
    p, _ = store
    publish(buy_again={"u1": [p["kettle"], p["tea-b"], p["tea-a"]]}, popular=[p["cup-1"], p["tea-c"], p["tea-a"]])
    assert titles(recommendations_for(slot="buy_again", person="u1", k=3)) == ["tea-b", "tea-a", "tea-c"]
    stranger = recommendations_for(slot="buy_again", person="anon:new", k=3)
    assert titles(stranger) == ["tea-c", "tea-a"] and {r.source for r in stranger} == {"popular"}


def test_upsell_prefers_similar_items_priced_higher_within_the_ratio(store, settings):
    p, _ = store
    publish(similar={p["kettle"]: [p["cup-1"], p["kettle-luxe"], p["kettle-pro"], p["kettle-plus"], p["kettle-gone"]]},
            popular=[p["tea-a"]])
    # 20.00 → (20, 30]: the pricier kettles first, then the other similar items, then popular.
    assert titles(recommendations_for(slot="upsell", product=p["kettle"], k=5)) == [
        "kettle-pro", "kettle-plus", "cup-1", "kettle-luxe", "tea-a"]
    settings.RECOMMENDER_UPSELL_PRICE_RATIO = 3
    assert titles(recommendations_for(slot="upsell", product=p["kettle"], k=3)) == [
        "kettle-luxe", "kettle-pro", "kettle-plus"]


def test_upsell_falls_back_to_similar_items_and_popular_in_the_category(store):
    p, _ = store
    publish(similar={p["kettle-luxe"]: [p["kettle"]]}, popular__cat__Kettles=[p["kettle-plus"], p["kettle-luxe"]],
            popular=[p["cup-1"], p["tea-a"]])
    assert titles(recommendations_for(slot="upsell", product=p["kettle-luxe"], k=4)) == [
        "kettle", "kettle-plus", "cup-1", "tea-a"]


def test_similar_and_upsell_read_look_alikes_by_content_after_co_viewed_items(store):
    p, _ = store
    publish(similar={p["kettle"]: [p["cup-1"]]}, content={p["kettle"]: [p["kettle-luxe"], p["kettle-plus"], p["cup-1"]]},
            popular=[p["tea-a"]])
    similar = recommendations_for(slot="similar", product=p["kettle"], k=4)
    assert [(r.product.title, r.source) for r in similar] == [
        ("cup-1", "similar"), ("kettle-luxe", "content"), ("kettle-plus", "content"), ("tea-a", "popular")]
    # Up-sell: a look-alike priced within (20, 30] comes before the cheaper co-viewed cup.
    assert titles(recommendations_for(slot="upsell", product=p["kettle"], k=3)) == ["kettle-plus", "cup-1", "kettle-luxe"]
    # A version trained without item features has no content list: the chain goes on.
    client().delete(key(VERSION, "content"))
    catalogue.clear()
    assert titles(recommendations_for(slot="similar", product=p["kettle"], k=2)) == ["cup-1", "tea-a"]


def test_complete_order_merges_what_goes_with_every_basket_line_then_popular(store):
    from oscar.test.factories import create_basket

    p, _ = store
    publish(bought_together={p["kettle"]: [p["cup-2"], p["cup-1"], p["tea-a"]], p["tea-b"]: [p["cup-1"], p["tea-a"]]},
            popular=[p["kettle"], p["tea-c"], p["tea-d"]])
    basket = create_basket(empty=True)
    basket.add_product(p["kettle"])
    basket.add_product(p["tea-b"])
    recs = recommendations_for(slot="complete_order", basket=basket, k=5)
    # An item scores 1/rank on each line's list: cup-1 (1/2 + 1) goes with both lines, cup-2 (1) comes
    # first for the kettle, tea-a (1/3 + 1/2) is lower on both; nothing already in the basket comes back.
    assert titles(recs) == ["cup-1", "cup-2", "tea-a", "tea-c", "tea-d"]
    assert [r.source for r in recs] == ["basket_together"] * 3 + ["popular"] * 2
    assert titles(recommendations_for(slot="complete_order", k=2)) == ["kettle", "tea-c"]  # no basket: popular


def test_trending_overall_or_in_a_category_given_directly_or_by_a_product(store):
    p, categories = store
    publish(trending=[p["kettle"], p["cup-1"], p["tea-a"], p["cup-2"]], trending__cat__Tea=[p["tea-c"], p["tea-b"]],
            popular__cat__Tea=[p["tea-d"], p["tea-c"]], popular=[p["cup-3"]])
    assert titles(recommendations_for(slot="trending", k=3)) == ["kettle", "cup-1", "tea-a"]
    in_tea = ["tea-c", "tea-b", "tea-d", "tea-a", "kettle"]  # trending in Tea, then popular, then the rest
    assert titles(recommendations_for(slot="trending", category=categories["Tea"], k=5)) == in_tea
    assert titles(recommendations_for(slot="trending", product=p["tea-a"], k=4)) == ["tea-c", "tea-b", "tea-d", "kettle"]
    kitchen = categories["Tea"].get_parent()  # a parent category: its subcategories' items first
    assert titles(recommendations_for(slot="trending", category=kitchen, k=2)) == ["kettle", "cup-1"]


def test_at_most_the_cap_from_one_category_while_others_are_left(store, settings):
    p, _ = store
    cups = [p[f"cup-{i}"] for i in range(1, 6)]
    publish(popular=[*cups, p["tea-a"], p["kettle"]])
    assert titles(recommendations_for(person="anon:x", k=5)) == ["cup-1", "cup-2", "cup-3", "tea-a", "kettle"]
    settings.RECOMMENDER_CATEGORY_CAP = 2
    assert titles(recommendations_for(person="anon:x", k=4)) == ["cup-1", "cup-2", "tea-a", "kettle"]
    settings.RECOMMENDER_CATEGORY_CAP = None
    assert titles(recommendations_for(person="anon:x", k=4)) == ["cup-1", "cup-2", "cup-3", "cup-4"]


def _rule(action, product, **scope):
    return MerchandisingRule.objects.create(action=action, product=product, **scope)


def test_a_pin_goes_first_in_its_slot_and_context_while_it_can_be_bought(store):
    p, categories = store
    publish(for_you={"u1": [p["tea-a"], p["cup-1"]]}, similar={p["kettle"]: [p["kettle-plus"]],
                                                               p["tea-a"]: [p["tea-b"]]},
            popular=[p["cup-2"]])
    _rule("pin", p["cup-5"], slot="for_you")
    _rule("pin", p["kettle-luxe"], slot="similar", on_product=p["kettle"])
    _rule("pin", p["tea-d"], slot="similar", on_category=categories["Tea"].get_parent(), position=2)
    _rule("pin", p["kettle-gone"])  # sold out: never shown, pinned or not
    recs = recommendations_for(person="u1", k=3)
    assert titles(recs) == ["cup-5", "tea-a", "cup-1"] and recs[0].source == "pinned"
    assert titles(recommendations_for(slot="similar", product=p["kettle"], k=3)) == ["kettle-luxe", "tea-d",
                                                                                    "kettle-plus"]
    # On a tea's page (in Kitchen too) only the category pin applies.
    assert titles(recommendations_for(slot="similar", product=p["tea-a"], k=3)) == ["tea-b", "tea-d", "cup-2"]
    assert "cup-5" not in titles(recommendations_for(slot="trending", k=5))


def test_a_ban_keeps_a_product_out_of_one_slot_or_all_and_beats_a_pin(store):
    p, _ = store
    publish(for_you={"u1": [p["cup-1"], p["cup-2"], p["tea-a"]]}, popular=[p["cup-1"], p["cup-2"]],
            similar={p["kettle"]: [p["cup-1"], p["cup-2"]]})
    _rule("ban", p["cup-1"])
    _rule("ban", p["cup-2"], slot="similar")
    _rule("pin", p["cup-1"], slot="for_you")
    assert titles(recommendations_for(person="u1", k=3)) == ["cup-2", "tea-a"]
    assert titles(recommendations_for(slot="similar", product=p["kettle"], k=3)) == []
    assert titles(recommendations_for(slot="trending", k=3)) == ["cup-2"]


def test_pins_and_bans_hold_only_for_their_period(store):
    p, _ = store
    publish(popular=[p["cup-1"], p["cup-2"]])
    now = timezone.now()
    _rule("pin", p["tea-a"], starts_at=now + timedelta(hours=1))
    _rule("ban", p["cup-1"], ends_at=now - timedelta(minutes=1))
    _rule("ban", p["cup-2"], starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    assert titles(recommendations_for(slot="trending", k=3)) == ["cup-1"]


def test_oscars_recommended_products_come_first_in_product_slots_under_the_same_rules(store):
    from oscar.core.loading import get_model

    ProductRecommendation = get_model("catalogue", "ProductRecommendation")
    p, _ = store
    publish(bought_together={p["kettle"]: [p["cup-1"]]}, similar={p["kettle"]: [p["kettle-plus"]]},
            bought={"u1": [p["cup-3"]]}, popular=[p["tea-a"]])
    for recommended, ranking in (("cup-3", 9), ("kettle-pro", 5), ("cup-hidden", 8), ("cup-4", 1), ("kettle-gone", 7)):
        ProductRecommendation.objects.create(primary=p["kettle"], recommendation=p[recommended], ranking=ranking)
    together = recommendations_for(slot="bought_together", product=p["kettle"], person="u1", k=4)
    # Highest ranking first; the hidden, sold-out and (for u1) already bought ones are left out.
    assert titles(together) == ["kettle-pro", "cup-4", "cup-1", "kettle-plus"]
    assert [r.source for r in together] == ["manual", "manual", "bought_together", "similar"]
    assert titles(recommendations_for(slot="similar", product=p["kettle"], k=2)) == ["cup-3", "kettle-pro"]
    # Up-sell: the manual ones in the price band come first, like any similar item.
    assert titles(recommendations_for(slot="upsell", product=p["kettle"], k=3)) == ["kettle-pro", "kettle-plus",
                                                                                  "cup-3"]
    # Edited in Oscar's dashboard: the change reaches serving at once.
    ProductRecommendation.objects.filter(recommendation=p["kettle-pro"]).delete()
    assert "kettle-pro" not in titles(recommendations_for(slot="similar", product=p["kettle"], k=2))


def test_serving_every_slot_makes_no_query_once_warm(store, django_assert_num_queries):
    from oscar.test.factories import create_basket

    p, categories = store
    publish(for_you={"u1": [p["tea-a"], p["cup-1"]]}, buy_again={"u1": [p["tea-a"]]}, bought={"u1": [p["tea-a"]]},
            similar={p["kettle"]: [p["kettle-pro"]]}, bought_together={p["kettle"]: [p["cup-1"]]},
            trending=[p["cup-2"]], popular=[p["cup-3"], p["tea-b"]])
    _rule("pin", p["cup-4"], slot="similar")
    _rule("ban", p["cup-5"])
    basket = create_basket(empty=True)
    basket.add_product(p["kettle"])
    basket.all_lines()
    calls = [dict(slot=slot, person="u1", product=p["kettle"], basket=basket) for slot in (
        "for_you", "discover", "buy_again", "bought_together", "similar", "upsell", "complete_order", "trending")]
    calls.append(dict(slot="trending", category=categories["Tea"]))
    for kwargs in calls:
        assert recommendations_for(**kwargs), kwargs
    with django_assert_num_queries(0):
        for kwargs in calls:
            recommendations_for(**kwargs)


def test_an_unknown_slot_is_an_error_that_names_the_slots():
    with pytest.raises(ValueError, match="unknown slot 'everything'; slots: for_you, discover, buy_again, "
                                         "bought_together, similar, upsell, complete_order, post_purchase, "
                                         "trending, recently_viewed"):
        recommendations_for(slot="everything")


def test_a_rule_change_reaches_serving_in_another_process_within_seconds(store, make_staff,
                                                                        django_capture_on_commit_callbacks):
    """Another process (here: a second, already warm cache, which only Redis can tell) sees
    a ban made on the dashboard within the change log's check interval."""
    from recommender.rules import Context, RulesCache
    from shop.roles import MARKETING
    from tests.helpers import wait_for

    p, _ = store
    elsewhere = RulesCache()
    assert not elsewhere.current().banned(Context("for_you"), timezone.now())
    marketing = Client()
    marketing.force_login(make_staff("m@example.com", group=MARKETING))
    with django_capture_on_commit_callbacks(execute=True):
        response = marketing.post("/dashboard/recommender/merchandising/new/",
                                  {"action": "ban", "product": p["cup-1"].pk, "slot": "", "position": 1})
    assert response.status_code == 302, response.content.decode()[:2000]
    started = timezone.now()
    assert wait_for(lambda: str(p["cup-1"].pk) in elsewhere.current().banned(Context("for_you"), timezone.now()),
                    timeout=5)
    assert (timezone.now() - started).total_seconds() < 5


def test_buy_again_is_published_as_each_persons_repeat_ranking(store, settings, tmp_path, countries):
    from django.contrib.auth import get_user_model

    from recommender.training import train_version
    from tests.helpers import place_order

    settings.RECOMMENDER_MODEL_DIR = str(tmp_path)
    settings.RECOMMENDER_TRAINING = {"time_budget_seconds": 5}
    p, _ = store
    p["tea-b"].stockrecords.update(num_in_stock=500)  # enough for every order below
    now = timezone.now()
    users = [get_user_model().objects.create_user(f"b{i}", f"b{i}@example.com", "pw") for i in range(6)]
    for i, user in enumerate(users):
        for days in (50, 30, 10):
            place_order(p["tea-b"], user=user, placed_at=now - timedelta(days=days + i))
        place_order(p["tea-a"], p["kettle"], user=user, placed_at=now - timedelta(days=20 + i))
    train_version()
    again = recommendations_for(slot="buy_again", person=str(users[0].pk), k=3)
    # Most often bought first (not the model's item order, where tea-a comes first).
    assert titles(again)[:2] == ["tea-b", "tea-a"] and {r.source for r in again[:2]} == {"buy_again"}
    assert "kettle" not in titles(again)


def test_the_endpoint_serves_every_slot_and_explains_bad_requests(store, client):
    p, categories = store
    publish(trending__cat__Tea=[p["tea-c"]], bought_together={p["kettle"]: [p["cup-1"], p["tea-a"]]},
            similar={p["kettle"]: [p["kettle-pro"]]}, popular=[p["cup-2"]], trending=[p["cup-3"]])
    api = "/api/recommendations/"
    assert [r["title"] for r in client.get(api, {"slot": "trending", "category": categories["Tea"].pk,
                                                 "k": 1}).json()] == ["tea-c"]
    assert [r["title"] for r in client.get(api, {"slot": "upsell", "product": p["kettle"].pk, "k": 1}).json()] == [
        "kettle-pro"]
    # "Complete your order" reads the shopper's own basket.
    assert client.post(f"/basket/add/{p['kettle'].pk}/", {"quantity": 1}).status_code == 302
    assert [r["title"] for r in client.get(api, {"slot": "complete_order", "k": 2}).json()] == ["cup-1", "tea-a"]
    for bad, field, says in (({"slot": "everything"}, "slot", "complete_order"),
                             ({"slot": "upsell"}, "product", "needs a product"),
                             ({"slot": "trending", "category": "tea"}, "category", "a category id"),
                             ({"slot": "for_you", "category": categories["Tea"].pk}, "category", "only the trending")):
        response = client.get(api, bad)
        assert response.status_code == 400 and says in str(response.json()[field]), (bad, response.json())
    assert client.get(api, {"slot": "trending", "category": 987654}).status_code == 404


def test_the_partial_titles_each_slot_and_trending_by_category(store):
    from django.template import Context, Template
    from django.test import RequestFactory

    p, categories = store
    publish(trending__cat__Tea=[p["tea-c"]], similar={p["kettle"]: [p["kettle-pro"]]}, popular=[p["cup-2"]])
    request = RequestFactory().get("/")
    request.tracking_anonymous_id = "v1"
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    render = lambda text, **ctx: Template("{% load recommendations %}" + text).render(  # noqa: E731
        Context({"request": request, **ctx}))
    html = render('{% recommendations "trending" category=category k=1 as items %}'
                  '{% include "recommender/partials/slot.html" with slot="trending" %}', category=categories["Tea"])
    assert "Trending in Tea" in html and "tea-c" in html and 'data-ecrm-slot="trending"' in html
    html = render('{% recommendations "upsell" product=product k=1 as items %}'
                  '{% include "recommender/partials/slot.html" with slot="upsell" %}', product=p["kettle"])
    assert "You may also like" in html and "kettle-pro" in html
    html = render('{% recommendations "upsell" product=product k=1 as items %}'
                  '{% include "recommender/partials/slot.html" with slot="upsell" title="Go further" %}',
                  product=p["kettle"])
    assert "Go further" in html and "You may also like" not in html
    with pytest.raises(ValueError, match="slots: for_you"):
        render('{% recommendations "upsel" product=product as items %}', product=p["kettle"])


def test_a_durable_bought_since_training_is_not_recommended_to_its_buyer(store):
    """What the person bought since the version was trained comes from their recent activity
    (``recommender.recent``, fed by tracking's "Order Completed" as the consumer stores it)."""
    import time

    from recommender.recent import recent_record

    p, _ = store
    publish(for_you={"u1": [p["kettle"], p["tea-a"], p["cup-1"]]}, popular=[])
    assert titles(recommendations_for(person="u1")) == ["kettle", "tea-a", "cup-1"]
    now = int(time.time())
    recent_record({"u1": [(now, f"{p['kettle'].pk}|purchase|{now}"), (now, f"{p['tea-a'].pk}|purchase|{now}")]})
    assert titles(recommendations_for(person="u1")) == ["tea-a", "cup-1"]  # tea can be bought again


def test_a_renamed_category_reaches_every_process_within_seconds(store, django_capture_on_commit_callbacks):
    from recommender.catalogue import CatalogueCache
    from tests.helpers import wait_for

    p, categories = store
    elsewhere = CatalogueCache()  # another process's warm cache: only the change log can tell it
    tea = str(p["tea-a"].pk)
    assert elsewhere.details([tea])[tea].category == "Tea"
    with django_capture_on_commit_callbacks(execute=True):
        categories["Tea"].name = "Loose tea"
        categories["Tea"].save()
    assert wait_for(lambda: elsewhere.details([tea])[tea].category == "Loose tea", timeout=5)
