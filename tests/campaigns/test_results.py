"""Campaign results: conversions within the attribution window (recipients from their send,
the holdout from the moment it would have been theirs), revenue, lift with its interval
against a hand-computed example, ROI, the CSV and the page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Broadcast, HoldoutMember, Message, MessageClick, MessageOpen
from campaigns.results import campaign_results
from recommender.ab_stats import rate_ratio
from tests.campaigns.broadcast_helpers import audience
from tests.helpers import place_order

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(days=20)


@pytest.fixture
def campaign(product, django_user_model):
    segment, _ = audience(1, prefix="seg")
    b = Broadcast.objects.create(name="Gift guide", segment=segment, template="WINTER_NEWS", topic="offers",
                                 holdout_share=0.33, attribution_days=5, cost=Decimal("50.00"),
                                 status=Broadcast.SENT)
    registered = django_user_model.objects.create_user("reg", "reg@example.com", "pw")
    treated = [str(registered.pk)] + [f"email:t{i}@example.com" for i in range(1, 40)]
    Message.objects.bulk_create([
        Message(key=f"broadcast:{b.pk}:{p}", source_kind="broadcast", source_id=str(b.pk), campaign=b.campaign,
                kind=Message.MARKETING, topic="offers", person_key=p, to_email=f"{p.split(':')[-1]}",
                template="WINTER_NEWS", status=Message.SENT, sent_at=T0, due_at=T0) for p in treated])
    Message.objects.create(key=f"broadcast:{b.pk}:skipped", source_kind="broadcast", campaign=b.campaign,
                           kind=Message.MARKETING, topic="offers", person_key="email:s@example.com",
                           to_email="s@example.com", template="WINTER_NEWS", status=Message.SKIPPED)
    HoldoutMember.objects.bulk_create([HoldoutMember(campaign=b.campaign, person_key=f"email:h{i}@example.com", at=T0)
                                       for i in range(20)])

    def buy(person: str, days: float, **extra):
        kwargs = {"user": registered} if person == str(registered.pk) else {"guest_email": person[6:]}
        return place_order(product, placed_at=T0 + timedelta(days=days), **kwargs, **extra)

    # Recipients: 10 convert within 5 days (the registered customer twice), 3 only after it,
    # 2 only before the send; one cancelled order inside the window counts for nothing.
    orders = [buy(p, 1 + i / 10) for i, p in enumerate(treated[:10])] + [buy(treated[0], 4.5)]
    for p in treated[10:13]:
        buy(p, 6)
    for p in treated[13:15]:
        buy(p, -1)
    cancelled = buy(treated[15], 2)
    cancelled.status = "Cancelled"
    cancelled.save()
    # Holdout: 2 within the window, 1 after it.
    held = [buy("email:h0@example.com", 0.5), buy("email:h1@example.com", 4.9)]
    buy("email:h2@example.com", 5.5)
    # Engagement: 6 opened (one more prefetched by a proxy), 4 clicked (and a scanner's click).
    messages = list(Message.objects.filter(campaign=b.campaign, status=Message.SENT).order_by("pk"))
    for m in messages[:6]:
        MessageOpen.objects.create(message=m, person_key=m.person_key, campaign=b.campaign)
    for m in messages[:4]:
        MessageClick.objects.create(message=m, person_key=m.person_key, campaign=b.campaign, url="https://x/", url_hash="a")
    MessageClick.objects.create(message=messages[20], person_key="x", campaign=b.campaign, url="https://x/",
                                url_hash="a", automated=True)
    Message.objects.filter(pk=messages[30].pk).update(delivery_event="delivered")
    return b, orders, held


def test_conversions_within_the_window_count_and_outside_do_not(campaign):
    b, orders, held = campaign
    r = campaign_results(b.campaign)
    assert (r.recipients, r.sent, r.statuses) == (41, 40, {"sent": 40, "skipped": 1})
    assert (r.opened, r.clicked, r.delivered) == (6, 4, 7)
    assert (r.treated.people, r.treated.converted, r.treated.orders) == (40, 10, 11)
    assert r.treated.revenue == sum(o.total_incl_tax for o in orders)
    assert (r.holdout.people, r.holdout.converted, r.holdout.orders) == (20, 2, 2)
    assert r.holdout.revenue == sum(o.total_incl_tax for o in held)
    assert r.treated.cumulative[-1] == 10 and r.treated.cumulative[0] == 0 and len(r.treated.cumulative) == 6


def test_lift_and_its_interval_match_a_hand_computed_example(campaign):
    b, orders, held = campaign
    r = campaign_results(b.campaign)
    # Recipients 10/40 = 0.25, Wilson 95 %: 0.1419..0.4019; holdout 2/20 = 0.10: 0.0279..0.3010.
    assert (round(r.treated.rate.low, 4), round(r.treated.rate.high, 4)) == (0.1419, 0.4019)
    assert (round(r.holdout.rate.low, 4), round(r.holdout.rate.high, 4)) == (0.0279, 0.3010)
    # Newcombe: 0.15 - sqrt((0.25-0.1419)^2 + (0.3010-0.10)^2) = -0.0783;
    #           0.15 + sqrt((0.4019-0.25)^2 + (0.10-0.0279)^2) = 0.3182.
    assert round(r.lift.value, 4) == 0.15 and round(r.lift.low, 4) == -0.0783 and round(r.lift.high, 4) == 0.3182
    assert not r.lift.significant
    # Relative: 0.25 / 0.10 - 1 = 1.5; Katz: 2.5 * exp(±1.96 * sqrt(1/10 - 1/40 + 1/2 - 1/20)) - 1.
    assert round(r.relative_lift.value, 4) == 1.5
    assert (round(r.relative_lift.low, 3), round(r.relative_lift.high, 3)) == (-0.396, 9.344)
    revenue = sum(o.total_incl_tax for o in orders)
    assert r.roi == pytest.approx(float((revenue - 50) / 50))
    per_holdout = sum(o.total_incl_tax for o in held) / 20
    assert r.incremental_revenue == (revenue - per_holdout * 40).quantize(Decimal("0.01"))
    assert r.incremental_conversions == pytest.approx(0.15 * 40)


def test_rate_ratio_without_events():
    assert rate_ratio(0, 10, 3, 10).value is None
    assert rate_ratio(2, 10, 0, 10).value == 0.0


def test_the_results_page_and_csv(campaign, make_staff):
    b, orders, held = campaign
    client = Client()
    client.force_login(make_staff("support@example.com", group="Support"))
    page = client.get(f"/dashboard/campaigns/results/{b.campaign}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Gift guide" in html and "chart-4.6.1.umd.min.js" in html and "0.1500" in html
    export = client.get(f"/dashboard/campaigns/results/{b.campaign}/?format=csv")
    assert export["Content-Type"].startswith("text/csv")
    header, row = list(csv.reader(io.StringIO(export.content.decode())))
    data = dict(zip(header, row))
    assert (data["sent"], data["converted"], data["holdout_converted"], data["lift"]) == ("40", "10", "2", "0.15")
    assert client.get("/dashboard/campaigns/results/").status_code == 200
    assert client.get("/dashboard/campaigns/results/broadcast:999/").status_code == 404
    assert client.get("/dashboard/campaigns/results/<script>/").status_code == 404
