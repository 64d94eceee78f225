"""The traffic and campaigns report and the campaign cost form: who may see and enter what,
CSV, and bad input refused with reasons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from ecrm.models import CampaignCost
from shop.roles import MARKETING, SUPPORT
from tests.ecrm.test_traffic import script, send

pytestmark = pytest.mark.django_db
REPORT = "/dashboard/customers/support-desk/reports/traffic/"
COSTS = REPORT + "costs/"


@pytest.fixture
def marketer(make_staff, product_in_stock):
    send(*script(str(product_in_stock.pk), str(product_in_stock.pk)))
    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    return client


def test_the_report_by_each_dimension_with_chart_and_csv(marketer):
    page = marketer.get(REPORT).content.decode()
    assert "traffic-chart" in page and "chart-4.6.1.umd.min.js" in page
    assert "newsletter" in page and "blog.example.org" in page and "First touch" in page
    campaigns = marketer.get(REPORT, {"dimension": "campaign", "days": "7"}).content.decode()
    assert "spring" in campaigns and "(no campaign)" in campaigns
    csv = marketer.get(REPORT, {"dimension": "campaign", "format": "csv"}).content.decode().splitlines()
    assert csv[0] == ("campaign,sessions,converted_sessions,conversion_rate,orders_last_touch,revenue_last_touch,"
                      "orders_first_touch,revenue_first_touch")
    assert "spring,1,1,1.0000,1,100.00,0,0.00" in csv and "launch,1,0,0.0000,0,0.00,1,100.00" in csv
    terms = marketer.get(REPORT, {"dimension": "search_term", "format": "csv"}).content.decode()
    assert "cast iron skillet,1,0,0.0000,0,0.00,0,0.00" in terms
    for bad, reason in (({"dimension": "nonsense"}, "dimension must be one of"), ({"days": "-3"}, "days must be"),
                        ({"days": "181"}, "from 1 to 180"), ({"format": "xls"}, "format must be html or csv")):
        response = marketer.get(REPORT, bad)
        assert response.status_code == 400 and reason in response.content.decode()


def test_a_marketer_enters_a_cost_and_sees_roi(marketer):
    day = timezone.localdate() - timedelta(days=1)
    response = marketer.post(COSTS, {"campaign": " spring ", "starts_on": day.isoformat(), "ends_on": day.isoformat(),
                                     "cost": "40.00", "note": "Newsletter send"})
    assert response.status_code == 302
    cost = CampaignCost.objects.get()
    assert (cost.campaign, cost.cost, cost.entered_by.email) == ("spring", Decimal("40.00"), "m@example.com")
    page = marketer.get(REPORT, {"dimension": "campaign"}).content.decode()
    assert "150 %" in page and "2.50" in page  # ROI (100 − 40) / 40, ROAS 100 / 40
    assert marketer.post(f"{COSTS}{cost.pk}/delete/").status_code == 302
    assert not CampaignCost.objects.exists()
    assert marketer.post(f"{COSTS}999999/delete/").status_code == 404


@pytest.mark.parametrize(("data", "reason"), [
    ({"campaign": "", "starts_on": "2026-01-01", "ends_on": "2026-01-31", "cost": "10"}, "This field is required"),
    ({"campaign": "   ", "starts_on": "2026-01-01", "ends_on": "2026-01-31", "cost": "10"}, "This field is required"),
    ({"campaign": "spring", "starts_on": "2026-02-01", "ends_on": "2026-01-01", "cost": "10"}, "ends before it starts"),
    ({"campaign": "spring", "starts_on": "2026-01-01", "ends_on": "2026-01-31", "cost": "-5"}, "cannot be negative"),
    ({"campaign": "spring", "starts_on": "yesterday", "ends_on": "2026-01-31", "cost": "10"}, "Enter a valid date"),
    ({"campaign": "spring", "starts_on": "2026-01-01", "ends_on": "2026-01-31", "cost": "lots"}, "Enter a number"),
    ({"campaign": "x" * 201, "starts_on": "2026-01-01", "ends_on": "2026-01-31", "cost": "10"}, "at most 200"),
])
def test_bad_costs_are_refused_with_a_reason(marketer, data, reason):
    response = marketer.post(COSTS, data)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not CampaignCost.objects.exists()


def test_support_staff_and_customers_may_not(make_staff, django_user_model):
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get(REPORT).status_code == 403
    assert support.post(COSTS, {"campaign": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-01",
                                "cost": "1"}).status_code == 403
    customer = Client()
    customer.force_login(django_user_model.objects.create_user("c", "c@example.com", "pw"))
    assert customer.get(REPORT).status_code == 403
    assert Client().get(REPORT).status_code == 302  # to the login page
    assert not CampaignCost.objects.exists()


def test_posting_a_cost_needs_the_csrf_token(make_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("m@example.com", group=MARKETING))
    response = client.post(COSTS, {"campaign": "x", "starts_on": "2026-01-01", "ends_on": "2026-01-01", "cost": "1"})
    assert response.status_code == 403 and not CampaignCost.objects.exists()
    page = client.get(REPORT).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
