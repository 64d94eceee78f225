"""Lifetime value on the store's own orders: fitted by ecrm_refresh_scores, kept on
profiles (segments, card), reported with the holdout diagnostic; a young store with too
little history is told so instead of failing."""

import csv
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from ecrm.models import Profile, ScoreFit
from ecrm.scores import clv_refresh
from ecrm.segments import segment_matches
from shop.roles import MARKETING

pytestmark = pytest.mark.django_db
CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"


@pytest.fixture
def cdnow_store(tmp_path, site_pages):
    """The first 600 CDNOW customers' purchases, imported as Oscar orders."""
    rows = [row for row in csv.DictReader(CDNOW.open()) if int(row["customer_id"]) <= 600 and float(row["amount"]) > 0]
    path = tmp_path / "orders.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "order_number", "date", "sku", "quantity", "price"])
        for number, row in enumerate(rows):
            writer.writerow([f"c{row['customer_id']}@cdnow.test", f"CD{number}", row["date"], "CD", 1, row["amount"]])
    call_command("ecrm_import_orders", str(path), verbosity=0)
    return len({row["customer_id"] for row in rows})


def test_scores_from_the_stores_orders(cdnow_store, make_staff):
    fit = clv_refresh(today=date(1997, 9, 30))
    assert not fit.error and fit.customers == cdnow_store
    assert set(fit.parameters["bgnbd"]) == {"r", "alpha", "a", "b"}
    scored = Profile.objects.exclude(probability_alive=None)
    assert scored.count() == cdnow_store
    one = scored.filter(order_count__gte=3).first()
    assert 0 <= one.probability_alive <= 1 and abs(one.churn_risk - (1 - one.probability_alive)) < 1e-9
    assert one.expected_purchases_365d > one.expected_purchases_90d > 0 and one.predicted_clv > 0
    assert fit.diagnostic.get("weekly") or fit.diagnostic.get("error")
    risky = segment_matches({"attribute": "churn_risk", "op": "gte", "value": 0.5})
    assert risky and risky < set(scored.values_list("pk", flat=True))

    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    page = client.get("/dashboard/customers/support-desk/reports/lifetime-value/").content.decode()
    assert "BG/NBD" in page and "clv-weekly" in page and "Most valuable customers ahead" in page
    assert fit.parameters["warnings"] == [] and "Take these figures with care" not in page
    card = client.get(f"/dashboard/customers/support-desk/{one.pk}/").content.decode()
    assert "Predicted value" in card and "Churn risk" in card


def test_a_young_store_is_told_why_there_are_no_scores(db, capsys, make_staff):
    Profile.objects.create(person_key="email:solo@example.com", email="solo@example.com")
    call_command("ecrm_refresh_scores")
    assert "Lifetime value: not fitted" in capsys.readouterr().out
    fit = ScoreFit.objects.get()
    assert fit.error and not Profile.objects.exclude(probability_alive=None).exists()
    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    assert "The last fit" in client.get("/dashboard/customers/support-desk/reports/lifetime-value/").content.decode()


def test_every_profile_gets_its_own_predictions(cdnow_store):
    """The scores are written in bulk (one UPDATE from arrays): each profile holds exactly
    the predictions computed for its person, none shifted to a neighbour."""
    from decimal import Decimal

    from ecrm.clv import fit_models, predictions, summarise
    from ecrm.scores import store_purchases

    today = date(1997, 9, 30)
    clv_refresh(today=today)
    rows = predictions(fit_models(summarise(store_purchases(), today)))
    stored = {p.person_key: p for p in Profile.objects.exclude(probability_alive=None)}
    assert len(stored) == len(rows) == cdnow_store
    assert len({row["predicted_clv"] for row in rows}) > 200  # distinct enough to catch a shift
    for row in rows:
        profile = stored[row["customer_id"]]
        assert profile.probability_alive == row["probability_alive"]
        assert profile.churn_risk == 1 - row["probability_alive"]
        assert profile.expected_purchases_90d == row["expected_purchases_90d"]
        assert profile.expected_purchases_365d == row["expected_purchases_365d"]
        assert profile.predicted_clv == Decimal(f"{row['predicted_clv']:.2f}")
        assert profile.expected_next_order_at == row["expected_next_order_date"]
        assert profile.scores_computed_at is not None
