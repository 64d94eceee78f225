"""The KPI digest goes on schedule (beat; daily every day, weekly on the subscriber's
weekday, from the send hour), once per period, only to staff allowed to see reports,
and its figures are those of direct queries."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Sum
from django.test import Client
from oscar.core.loading import get_model
from oscar.test.factories import create_product

from ecrm.digest import digests_send
from ecrm.models import DigestDelivery, DigestSubscription
from ecrm.tasks import send_kpi_digests
from shop.roles import MARKETING, SUPPORT
from tests.helpers import place_order, wait_for
from tracking.models import Session

Order = get_model("order", "Order")
WEDNESDAY = datetime(2026, 11, 4, 8, 0, tzinfo=timezone.utc)  # 08:00 in London (GMT in November)
URL = "/dashboard/customers/support-desk/reports/digest/"


def _day(month, day, hour=12):
    return datetime(2026, month, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def store(product_in_stock, make_staff, django_user_model):
    spoon = create_product(title="Spoon", upc="SPOON", price=Decimal("5.00"), num_in_stock=100)
    ada = django_user_model.objects.create_user(username="ada", email="ada@example.com")
    cy = django_user_model.objects.create_user(username="cy", email="cy@example.com")
    place_order(product_in_stock, user=ada, placed_at=_day(10, 1))                   # Ada's first order
    place_order(product_in_stock, quantity=2, user=ada, placed_at=_day(11, 3, 10))   # yesterday: 69.98, repeat
    place_order(product_in_stock, guest_email="bea@example.com", placed_at=_day(11, 3, 15))  # yesterday: new
    place_order(spoon, user=cy, placed_at=_day(11, 2))                               # the day before
    place_order(spoon, guest_email="eve@example.com", placed_at=_day(10, 30))        # earlier this week
    for n, (day, converted) in enumerate([(3, True), (3, False), (3, False), (3, False), (2, True), (2, False)]):
        Session.objects.create(key=f"s{n}", visitor=f"v{n}", started_at=_day(11, day, 9 + n),
                               last_event_at=_day(11, day, 9 + n), converted=converted)
    people = {}
    for name, group, frequency, weekday in (("daily", MARKETING, "daily", 0), ("wednesday", MARKETING, "weekly", 2),
                                            ("monday", MARKETING, "weekly", 0), ("support", SUPPORT, "daily", 0)):
        user = make_staff(f"{name}@example.com", group=group)
        DigestSubscription.objects.create(user=user, frequency=frequency, weekday=weekday)
        people[name] = user
    return people


def _figure(body: str, label: str) -> str:
    line = next(line for line in body.splitlines() if line.startswith(label))
    return line[len(label):].split("(before:")[0].strip()


def _revenue(since, until) -> Decimal:
    return Order.objects.filter(date_placed__gte=since, date_placed__lt=until).aggregate(t=Sum("total_incl_tax"))["t"]


def test_beat_runs_the_digest_hourly():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "ecrm.tasks.send_kpi_digests")
    assert entry["schedule"].hour == set(range(24)) and entry["schedule"].minute == {5}


@pytest.mark.django_db
def test_daily_every_day_weekly_on_their_day_once_per_period_and_only_to_report_staff(store, mailoutbox):
    assert digests_send(now=WEDNESDAY - timedelta(hours=2)) == 0  # 06:00: before the send hour
    assert digests_send(now=WEDNESDAY) == 2
    by_recipient = {mail.to[0]: mail for mail in mailoutbox}
    assert set(by_recipient) == {"daily@example.com", "wednesday@example.com"}  # not Monday's, not Support's
    daily = by_recipient["daily@example.com"]
    assert daily.subject == "Daily KPI digest: 3 Nov 2026"
    yesterday, day_before = _day(11, 3, 0), _day(11, 2, 0)
    revenue = _revenue(yesterday, yesterday + timedelta(days=1))
    orders = Order.objects.filter(date_placed__gte=yesterday, date_placed__lt=yesterday + timedelta(days=1)).count()
    sessions = Session.objects.filter(started_at__gte=yesterday, started_at__lt=yesterday + timedelta(days=1))
    assert _figure(daily.body, "Revenue") == f"{revenue:,.2f}" == "104.97"
    assert _figure(daily.body, "Orders") == str(orders) == "2"
    assert _figure(daily.body, "Average order value") == f"{revenue / orders:,.2f}"
    assert _figure(daily.body, "Sessions") == str(sessions.count()) == "4"
    assert _figure(daily.body, "Conversion rate") == f"{100 * sessions.filter(converted=True).count() / 4:.1f} %"
    assert _figure(daily.body, "New customers") == "1"  # Bea; Ada ordered in October
    assert _figure(daily.body, "Repeat purchase rate") == "50.0 %"  # Ada of Ada and Bea
    assert f"before: {_revenue(day_before, yesterday):,.2f}" in daily.body and "-25.0 pts" in daily.body
    assert "/dashboard/customers/support-desk/reports/customers/" in daily.body
    html = daily.alternatives[0][0]
    assert "104.97" in html and "<table" in html and daily.alternatives[0][1] == "text/html"
    weekly = by_recipient["wednesday@example.com"]
    assert weekly.subject == "Weekly KPI digest: 28 Oct – 3 Nov 2026"
    assert _figure(weekly.body, "Revenue") == f"{_revenue(_day(10, 28, 0), _day(11, 4, 0)):,.2f}" == "114.97"
    assert _figure(weekly.body, "Orders") == "4"

    assert digests_send(now=WEDNESDAY + timedelta(hours=1)) == 0  # the same periods: not again
    assert len(mailoutbox) == 2
    assert digests_send(now=WEDNESDAY + timedelta(days=1)) == 1  # Thursday: the daily one only
    assert mailoutbox[-1].to == ["daily@example.com"] and "4 Nov 2026" in mailoutbox[-1].subject
    assert digests_send(now=WEDNESDAY + timedelta(days=5)) == 2  # Monday: daily and Monday's weekly
    assert {m.to[0] for m in mailoutbox[-2:]} == {"daily@example.com", "monday@example.com"}
    assert DigestDelivery.objects.filter(sent_at=None).count() == 0


@pytest.mark.django_db
def test_a_failed_send_is_retried_next_hour_and_then_not_again(store, mailoutbox, settings):
    settings.EMAIL_BACKEND = "tests.ecrm.test_digest.RefusingBackend"
    assert digests_send(now=WEDNESDAY) == 0
    assert DigestDelivery.objects.filter(sent_at=None).count() == 2  # kept for the next run
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digests_send(now=WEDNESDAY + timedelta(hours=1)) == 2
    assert digests_send(now=WEDNESDAY + timedelta(hours=2)) == 0


class RefusingBackend:
    """A mail server that is down (a real backend class, not a mock of our code)."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.django_db
def test_staff_choose_their_digest_with_csrf_and_only_with_report_permission(make_staff):
    user = make_staff("m@example.com", group=MARKETING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(URL)
    assert page.status_code == 200 and "preview-daily" in page.content.decode()
    assert client.post(URL, {"frequency": "weekly", "weekday": "4"}).status_code == 403  # no CSRF token
    token = page.cookies["csrftoken"].value
    response = client.post(URL, {"frequency": "weekly", "weekday": "4", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert DigestSubscription.objects.filter(user=user, frequency="weekly", weekday=4).exists()
    bad = client.post(URL, {"frequency": "hourly", "csrfmiddlewaretoken": token})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    no_day = client.post(URL, {"frequency": "weekly", "weekday": "", "csrfmiddlewaretoken": token})
    assert no_day.status_code == 400 and "Choose the weekday" in no_day.content.decode()
    client.post(URL, {"frequency": "", "csrfmiddlewaretoken": token})
    assert not DigestSubscription.objects.filter(user=user).exists()
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get(URL).status_code == 403
    assert support.post(URL, {"frequency": "daily"}).status_code == 403
    Group.objects.get(name=MARKETING).user_set.remove(user)  # a marketer who moved on
    DigestSubscription.objects.create(user=user, frequency="daily")
    assert digests_send(now=WEDNESDAY) == 0


@pytest.mark.slow
def test_a_real_worker_sends_the_due_digests(worker, make_staff):
    user = make_staff("w@example.com", group=MARKETING)
    DigestSubscription.objects.create(user=user, frequency="daily")
    send_kpi_digests.apply_async(args=[WEDNESDAY.isoformat()], queue=worker)
    assert wait_for(lambda: DigestDelivery.objects.filter(user=user, sent_at__isnull=False,
                                                          period_end="2026-11-04").exists())


@pytest.mark.parametrize(("name", "value", "error"), [
    ("ECRM_PRICE_BANDS", [50, 10], "ecrm.E002"), ("ECRM_PRICE_BANDS", [], "ecrm.E002"),
    ("ECRM_DIGEST_SEND_HOUR", 24, "ecrm.E003"), ("ECRM_DIGEST_DEFAULT_WEEKDAY", "mon", "ecrm.E003"),
    ("ECRM_SITE_URL", "shop.example.com", "ecrm.E004")])
def test_bad_report_settings_are_refused_by_checks(settings, name, value, error):
    from ecrm.checks import check_report_settings

    setattr(settings, name, value)
    assert [e.id for e in check_report_settings()] == [error]
