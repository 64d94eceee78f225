"""RFM scores and groups against hand-computed expectations, kept on profiles, usable in
segments, and reported as a grid with a chart."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ecrm.models import Profile
from ecrm.rfm import Customer, quintiles, rfm_group, rfm_scores
from ecrm.segments import segment_matches
from shop.roles import MARKETING, SUPPORT


def test_quintiles_rank_and_share_ties():
    assert quintiles([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert quintiles([1, 1, 1, 1, 9, 9, 9, 9, 9, 9]) == [2, 2, 2, 2, 4, 4, 4, 4, 4, 4]
    assert quintiles([]) == []


@pytest.mark.parametrize(("r", "f", "m", "group"), [
    (5, 1, 3, "New"), (5, 5, 4, "Champions"), (4, 4, 4, "Champions"), (3, 4, 3, "Loyal"), (4, 3, 3, "Loyal"),
    (3, 2, 1, "Potential loyalists"), (1, 5, 5, "Cannot lose them"), (2, 4, 4, "At risk"), (2, 5, 4, "Cannot lose them"), (1, 3, 3, "At risk"),
    (2, 2, 1, "Hibernating"), (1, 1, 2, "Lost"),
])
def test_groups(r, f, m, group):
    assert rfm_group(r, f, m) == group


def test_scores_of_five_customers_by_hand():
    customers = [Customer("a", 2, 9, 900.0), Customer("b", 10, 4, 300.0), Customer("c", 40, 2, 120.0),
                 Customer("d", 200, 1, 20.0), Customer("e", 400, 6, 700.0), Customer("none", 0, 0, 0.0)]
    scores = rfm_scores(customers)
    assert "none" not in scores
    assert scores["a"] == (5, 5, 5, "Champions")
    assert scores["b"] == (4, 3, 3, "Loyal")
    assert scores["d"] == (2, 1, 1, "Hibernating")
    assert scores["e"] == (1, 4, 4, "At risk")


@pytest.mark.django_db
def test_refresh_segments_and_report(make_staff, capsys):
    now = timezone.now()
    for i, (days, orders, revenue) in enumerate([(2, 9, 900), (10, 4, 300), (40, 2, 120), (200, 1, 20), (400, 6, 700)]):
        Profile.objects.create(person_key=f"p{i}", email=f"p{i}@example.com", order_count=orders,
                               revenue=Decimal(revenue), last_order_at=now - timedelta(days=days))
    Profile.objects.create(person_key="browser", email="b@example.com", rfm_group="Lost")  # no orders any more
    call_command("ecrm_refresh_scores")
    assert "RFM: scored 5 customers with orders." in capsys.readouterr().out
    assert Profile.objects.get(person_key="p0").rfm_group == "Champions"
    assert Profile.objects.get(person_key="browser").rfm_group == ""
    champions = segment_matches({"attribute": "rfm_group", "op": "eq", "value": "champions"})
    assert champions == {Profile.objects.get(person_key="p0").pk}
    at_risk = segment_matches({"all": [{"attribute": "rfm_recency", "op": "lte", "value": 2},
                                       {"attribute": "rfm_frequency", "op": "gte", "value": 4}]})
    assert at_risk == {Profile.objects.get(person_key="p4").pk}

    marketing = Client()
    marketing.force_login(make_staff("m@example.com", group=MARKETING))
    page = marketing.get("/dashboard/customers/support-desk/reports/rfm/").content.decode()
    assert "chart-4.6.1.umd.min.js" in page and "Champions" in page and "rfm-groups" in page
    csv = marketing.get("/dashboard/customers/support-desk/reports/rfm/?format=csv").content.decode()
    assert "5,5,1,900.00" in csv and "Champions,1,900.00" in csv
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get("/dashboard/customers/support-desk/reports/rfm/").status_code == 403
    card = support.get(f"/dashboard/customers/support-desk/{Profile.objects.get(person_key='p0').pk}/")
    assert "Champions" in card.content.decode() and "R5 F5 M5" in card.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_every_profile_gets_its_own_scores(vendor, monkeypatch):
    """The scores are written in bulk (on PostgreSQL one UPDATE from arrays, elsewhere
    ``bulk_update``, taken here by calling the database something else): each profile
    holds exactly what ``rfm_scores`` gives its figures, none shifted to a neighbour."""
    from django.db import connection

    from ecrm.scores import rfm_refresh

    monkeypatch.setattr(connection, "vendor", vendor)
    now, rng = timezone.now(), random.Random(5)
    for i in range(300):
        Profile.objects.create(person_key=f"r{i}", email=f"r{i}@example.com", order_count=rng.randint(1, 12),
                               revenue=Decimal(rng.randint(5, 3000)),
                               last_order_at=now - timedelta(days=rng.randint(0, 700)))
    assert rfm_refresh(now=now) == 300
    profiles = list(Profile.objects.all())
    expected = rfm_scores([Customer(p.pk, (now - p.last_order_at).total_seconds() / 86400, p.order_count,
                                    float(p.revenue)) for p in profiles])
    assert len(set(expected.values())) > 30
    for p in profiles:
        assert (p.rfm_recency, p.rfm_frequency, p.rfm_monetary, p.rfm_group) == expected[p.pk]
        assert p.scores_computed_at == now
