"""A/B tests of model versions: arms by a stable hash, serving following the arm, pruning
keeping the arms' versions, results per arm, and the dashboard (real PostgreSQL and Redis)."""

from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from recommender import ab_stats
from recommender.experiment_results import experiment_results
from recommender.experiments import (CONTROL, VARIANT, arm_of, daily_impressions, experiment_start, experiment_stop,
                                     exposures)
from recommender.models import Experiment, ModelVersion
from recommender.publish import client, current_key, key
from recommender.serving import recommendations_for
from recommender.tasks import train_candidate
from recommender.training import train_version
from tests.helpers import place_order
from tracking.models import Event

pytestmark = pytest.mark.usefixtures("isolated")  # a private Redis prefix, deleted afterwards
ALS_CANDIDATE = {"fixed": {"next": {"kind": "blend", "params": {
    "w": 0.5, "repeat": {"kind": "repeat", "params": {}}, "discovery": {"kind": "als", "params": {"factors": 8}}}},
    "new": {"kind": "als", "params": {"factors": 8}}}}


def test_a_visitor_stays_in_one_arm_and_the_split_follows_the_share():
    people = [f"anon:{i}" for i in range(20_000)]
    arms = [arm_of(p, 7, 30) for p in people]
    assert arms == [arm_of(p, 7, 30) for p in people]  # stable
    share = Counter(arms)[VARIANT] / len(people)
    assert abs(share - 0.30) < 0.015  # binomial sd 0.0032
    # Another experiment reshuffles: its arms are independent of this one's.
    other = [arm_of(p, 8, 30) for p in people]
    both = sum(a == VARIANT and b == VARIANT for a, b in zip(arms, other)) / len(people)
    assert abs(both - 0.09) < 0.012
    assert Counter(arm_of(p, 7, 1) for p in people)[VARIANT] < 400
    assert Counter(arm_of(p, 7, 99) for p in people)[CONTROL] < 400


def _started(shop, share=50):
    serving = train_version()
    candidate = train_version(candidate=ALS_CANDIDATE, note="Candidate: ALS, 8 factors")
    return serving, candidate, experiment_start(name="ALS vs default", variant=candidate, variant_share=share)


def test_a_candidate_is_kept_and_measured_but_not_served(shop):
    serving = train_version()
    candidate = train_version(candidate=ALS_CANDIDATE, note="Candidate: ALS, 8 factors")
    assert candidate.status == ModelVersion.TRAINED and candidate.note == "Candidate: ALS, 8 factors"
    assert candidate.chosen == ALS_CANDIDATE["fixed"] and Path(candidate.path, "model.json").exists()
    assert [row["spec"] for row in candidate.metrics["validation"]] == [ALS_CANDIDATE["fixed"]["next"],
                                                                       ALS_CANDIDATE["fixed"]["new"]]
    assert client().get(current_key()) == str(serving.pk)
    assert not client().exists(key(candidate.pk, "popular"))  # published only when an experiment starts
    train_candidate(ALS_CANDIDATE, "the task's own path")  # what the Celery task runs
    assert ModelVersion.objects.filter(note="the task's own path", status=ModelVersion.TRAINED).exists()


def test_serving_follows_the_visitors_arm_until_the_experiment_stops(shop):
    _products, users = shop
    serving, candidate, experiment = _started(shop)
    assert client().exists(key(candidate.pk, "popular"))  # published for its arm, not served to all
    assert client().get(current_key()) == str(serving.pk)
    people = [str(u.pk) for u in users] + [f"anon:visitor-{i}" for i in range(40)]
    expected = {p: candidate.pk if arm_of(p, experiment.pk, 50) == VARIANT else serving.pk for p in people}
    assert set(expected.values()) == {serving.pk, candidate.pk}
    for _ in range(2):  # and again: the same arm
        assert {p: recommendations_for(person=p, k=2)[0].version for p in people} == expected
    assert recommendations_for(person="", k=2)[0].version == serving.pk  # no key, no experiment
    experiment_stop(experiment)
    assert {recommendations_for(person=p, k=2)[0].version for p in people} == {serving.pk}
    with pytest.raises(ValueError, match="not running"):
        experiment_stop(experiment)


def test_an_experiment_needs_another_kept_version_and_runs_alone(shop, settings):
    serving = train_version()
    with pytest.raises(ValueError, match="is the serving version"):
        experiment_start(name="x", variant=serving, variant_share=50)
    candidate = train_version(candidate=ALS_CANDIDATE)
    with pytest.raises(ValueError, match="from 1 to 99"):
        experiment_start(name="x", variant=candidate, variant_share=100)
    experiment_start(name="first", variant=candidate, variant_share=50)
    with pytest.raises(ValueError, match="Another experiment is running"):
        experiment_start(name="second", variant=candidate, variant_share=50)
    gone = ModelVersion.objects.create(status=ModelVersion.RETIRED, path="/nonexistent")
    Experiment.objects.update(status=Experiment.STOPPED)
    with pytest.raises(ValueError, match="files are gone"):
        experiment_start(name="third", variant=gone, variant_share=50)


def test_pruning_and_publishing_keep_the_versions_a_running_experiment_uses(shop, settings):
    settings.RECOMMENDER_KEEP_VERSIONS = 1
    control, candidate, experiment = _started(shop)
    newer = [train_version() for _ in range(3)]  # promoted one after the other; each prunes
    serving = newer[-1]
    assert client().get(current_key()) == str(serving.pk)
    for version in (control, candidate):
        version.refresh_from_db()
        assert client().exists(key(version.pk, "popular")) and Path(version.path, "model.json").exists()
    assert not client().exists(key(newer[0].pk, "popular"))  # neither serving, previous nor in use
    assert client().exists(key(newer[1].pk, "popular"))  # the one before the serving one: rollback
    # The arms still serve their own versions.
    person = next(f"anon:{i}" for i in range(100) if arm_of(f"anon:{i}", experiment.pk, 50) == CONTROL)
    assert recommendations_for(person=person, k=1)[0].version == control.pk
    experiment_stop(experiment)
    train_version()
    assert not client().exists(key(control.pk, "popular")) and not client().exists(key(candidate.pk, "popular"))
    control.refresh_from_db()
    assert control.path == ""  # files beyond the kept number go once no experiment needs them


def _render(request, slot="for_you", k=2):
    html = Template('{% load recommendations %}{% recommendations slot k=k as items %}'
                    '{% include "recommender/partials/slot.html" with title="x" %}').render(
        Context({"request": request, "slot": slot, "k": k}))
    return [t.split('"')[0] for t in html.split('data-ecrm-token="')[1:]]


def test_results_per_arm_add_up_and_carry_their_intervals(shop):
    products, users = shop
    control, candidate, experiment = _started(shop)
    by_arm = {CONTROL: [], VARIANT: []}
    for user in users + [get_user_model().objects.create_user(f"x{i}", f"x{i}@example.com", "pw")
                         for i in range(8)]:
        by_arm[arm_of(str(user.pk), experiment.pk, 50)].append(user)
    assert all(len(people) >= 3 for people in by_arm.values())
    factory = RequestFactory()
    tokens = {}
    for arm, people in by_arm.items():
        for person in people[:3]:  # three visitors per arm see the home slot twice (2 items each time)
            request = factory.get("/")
            request.user, request.tracking_anonymous_id = person, ""
            _render(request)
            tokens[person.pk] = _render(request)
    # Control: its first visitor clicks both items and buys the first one; variant: one click, no order.
    first, now = by_arm[CONTROL][0], timezone.now()
    for n, token in enumerate(tokens[first.pk]):
        Event.objects.create(message_id=f"c-{n}", type="track", event="Product Clicked", user_id=str(first.pk),
                             timestamp=now, received_at=now, source="browser", properties={"token": token})
    from recommender.tokens import read_token

    bought = type(products["tea"]).objects.get(pk=read_token(tokens[first.pk][0])["product_id"])
    order = place_order(bought, quantity=3, user=first)
    clicker = by_arm[VARIANT][1]
    Event.objects.create(message_id="v-1", type="track", event="Product Clicked", user_id=str(clicker.pk),
                         timestamp=now, received_at=now, source="browser",
                         properties={"token": tokens[clicker.pk][1]})
    results = experiment_results(experiment)
    c, v = results["arms"][CONTROL], results["arms"][VARIANT]
    revenue = float(order.lines.get().line_price_incl_tax)
    assert (c["version"], c["visitors"], c["impressions"], c["clicks"], c["orders"], c["revenue"]) == (
        control.pk, 3, 12, 2, 1, revenue)
    assert (v["version"], v["visitors"], v["impressions"], v["clicks"], v["orders"], v["revenue"]) == (
        candidate.pk, 3, 12, 1, 0, 0.0)
    assert c["ctr"] == ab_stats.wilson(2, 12) and v["ctr"] == ab_stats.wilson(1, 12)
    assert c["revenue_per_visitor"] == ab_stats.mean([revenue, 0.0, 0.0])
    assert c["orders_per_visitor"] == ab_stats.mean([1, 0, 0])
    assert c["revenue_per_impression"] == ab_stats.ratio([revenue, 0.0, 0.0], [4, 4, 4])
    d = results["differences"]
    assert d["ctr"] == ab_stats.rate_difference(2, 12, 1, 12) and not d["ctr"].significant
    assert d["revenue_per_visitor"] == ab_stats.mean_difference([revenue, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert results["daily"]["control"][-1] == round(100 * 2 / 12, 2)
    # The slot report sees the same clicks and revenue under the arms' versions.
    from recommender.attribution import slot_report

    rows = {r["version"]: r for r in slot_report(days=1)}
    assert rows[control.pk]["revenue"] == revenue and rows[candidate.pk]["clicks"] == 1


def test_a_new_experiment_starts_with_no_exposures_even_when_its_id_was_used_before(shop):
    """Redis outlives the database rows whose ids key the counts (a database restored from a
    backup, or created afresh for a test run): a reused id must not inherit old exposures."""
    from django.db import connection

    _products, users = shop
    _serving, _candidate, old = _started(shop)
    request = RequestFactory().get("/")
    request.user, request.tracking_anonymous_id = users[0], ""
    _render(request)
    assert sum(n for arm in exposures(old).values() for n in arm.values()) == 2
    experiment_stop(old)
    Experiment.objects.filter(pk=old.pk).delete()  # the rows as they were before it started
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('recommender_experiment', 'id'), %s, false)", [old.pk])
    new = experiment_start(name="again", variant=old.variant, variant_share=50)
    assert new.pk == old.pk
    assert exposures(new) == {CONTROL: {}, VARIANT: {}} and daily_impressions(new) == {}
    results = experiment_results(new)
    assert [results["arms"][arm]["impressions"] for arm in (CONTROL, VARIANT)] == [0, 0]


def test_experiment_screens_permissions_csrf_and_bad_input(shop, make_staff):
    from recommender.experiments import running_key
    from shop.roles import MARKETING, SUPPORT

    serving = train_version()
    candidate = train_version(candidate=ALS_CANDIDATE, note="Candidate: ALS, 8 factors")
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    for url in ("/dashboard/recommender/experiments/",):
        assert support.get(url).status_code == 403
    for url in ("/dashboard/recommender/experiments/start/", "/dashboard/recommender/experiments/candidate/"):
        assert support.post(url, {"name": "x", "variant": candidate.pk, "variant_share": 50}).status_code == 403
    assert Client().get("/dashboard/recommender/experiments/").status_code == 302  # to the login page

    staff = make_staff("m@example.com", group=MARKETING)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post("/dashboard/recommender/experiments/start/",
                       {"name": "x", "variant": candidate.pk, "variant_share": 50}).status_code == 403
    marketing = Client()
    marketing.force_login(staff)
    page = marketing.get("/dashboard/recommender/experiments/").content.decode()
    assert "Train a candidate" in page and f"v{candidate.pk} — Candidate: ALS, 8 factors" in page
    for bad, reason in (({"name": "x", "variant": candidate.pk, "variant_share": 0}, "greater than or equal to 1"),
                        ({"name": "x", "variant": serving.pk, "variant_share": 50}, "Select a valid choice"),
                        ({"name": "", "variant": candidate.pk, "variant_share": 50}, "This field is required"),
                        ({"name": "x", "variant": "abc", "variant_share": "half"}, "Enter a whole number")):
        response = marketing.post("/dashboard/recommender/experiments/start/", bad)
        assert response.status_code == 400 and reason in response.content.decode(), bad
    for bad, reason in (({"family": "svd", "factors": 8}, "Select a valid choice"),
                        ({"family": "als", "factors": ""}, "need a number of factors"),
                        ({"family": "bpr", "factors": 8, "blend": 2}, "less than or equal to 1")):
        response = marketing.post("/dashboard/recommender/experiments/candidate/", bad)
        assert response.status_code == 400 and reason in response.content.decode(), bad
    assert not Experiment.objects.exists()

    response = marketing.post("/dashboard/recommender/experiments/start/",
                              {"name": "ALS test", "variant": candidate.pk, "variant_share": 20})
    experiment = Experiment.objects.get()
    assert response.status_code == 302 and experiment.variant_share == 20 and experiment.control == serving
    assert experiment.created_by == staff.get_username()
    again = marketing.post("/dashboard/recommender/experiments/start/",
                           {"name": "again", "variant": candidate.pk, "variant_share": 20})
    assert again.status_code == 400 and "Another experiment is running" in again.content.decode()
    results = marketing.get(f"/dashboard/recommender/experiments/{experiment.pk}/").content.decode()
    assert "ctr-chart" in results and "daily-chart" in results and "Stop experiment" in results
    assert support.get(f"/dashboard/recommender/experiments/{experiment.pk}/").status_code == 403
    assert support.post(f"/dashboard/recommender/experiments/{experiment.pk}/stop/").status_code == 403
    assert marketing.get("/dashboard/recommender/experiments/987654/").status_code == 404
    assert marketing.post(f"/dashboard/recommender/experiments/{experiment.pk}/stop/").status_code == 302
    assert Experiment.objects.get().status == Experiment.STOPPED and not client().exists(running_key())
    # The variant won: serve it to everyone from the results page.
    stopped = marketing.get(f"/dashboard/recommender/experiments/{experiment.pk}/").content.decode()
    assert f"Serve v{candidate.pk} to everyone" in stopped and "Stop experiment" not in stopped
    assert marketing.post(f"/dashboard/recommender/{candidate.pk}/serve/").status_code == 302
    assert ModelVersion.objects.get(pk=candidate.pk).status == ModelVersion.SERVING
    assert client().get(current_key()) == str(candidate.pk)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_trains_a_candidate_on_a_real_worker(shop, worker, make_staff):
    """The "Train candidate" button queues the training; a real worker trains it and keeps it unserved."""
    from shop.celery import app
    from shop.roles import MARKETING
    from tests.helpers import wait_for

    train_version()
    marketing = Client()
    marketing.force_login(make_staff("m@example.com", group=MARKETING))
    default_queue, app.conf.task_default_queue = app.conf.task_default_queue, worker
    try:
        response = marketing.post("/dashboard/recommender/experiments/candidate/",
                                  {"family": "bpr", "factors": 16, "regularization": 0.01, "blend": ""})
    finally:
        app.conf.task_default_queue = default_queue
    assert response.status_code == 302
    done = ModelVersion.objects.filter(status=ModelVersion.TRAINED).exclude(path="")  # created first, finished later
    assert wait_for(done.exists, timeout=120), "the worker did not train the candidate"
    candidate = ModelVersion.objects.get(status=ModelVersion.TRAINED)
    assert candidate.note == "Candidate: BPR, 16 factors, regularisation 0.01, no blend"
    assert candidate.chosen["new"] == {"kind": "bpr", "params": {"factors": 16, "regularization": 0.01}}
