"""The KPI digest: the store's main figures for a period against the period before,
e-mailed to the staff who asked for it, daily (yesterday) or weekly (the last seven
days, on their weekday).

Beat runs ``ecrm.tasks.send_kpi_digests`` hourly; from ``ECRM_DIGEST_SEND_HOUR``
(store time) each due recipient gets one e-mail per period. A ``DigestDelivery`` row
is written before the e-mail goes and its unique key (recipient, frequency, period)
is what stops a second run, a retry or a concurrent beat from sending it again; a
row whose e-mail failed stays unsent and the next run tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ecrm.customer_metrics import customer_summary
from ecrm.customer_orders import period_summary
from ecrm.defaults import setting
from ecrm.models import DigestDelivery, DigestSubscription
from tracking.models import Session

log = logging.getLogger(__name__)
REPORT_PERMISSION = "ecrm.view_customer_reports"
LENGTH = {DigestSubscription.DAILY: 1, DigestSubscription.WEEKLY: 7}


@dataclass(frozen=True)
class Period:
    """Whole local days: [first, end) — ``end`` is the day the digest is due."""

    first: date
    end: date

    @property
    def since(self) -> datetime:
        return _midnight(self.first)

    @property
    def until(self) -> datetime:
        return _midnight(self.end)

    @property
    def previous(self) -> "Period":
        return Period(self.first - (self.end - self.first), self.first)

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        return f"{self.first:%-d %b %Y}" if last == self.first else f"{self.first:%-d %b} – {last:%-d %b %Y}"


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def period_ending(frequency: str, today: date) -> Period:
    return Period(today - timedelta(days=LENGTH[frequency]), today)


def kpis(period: Period, purchases=None) -> dict:
    """Revenue, orders, AOV, sessions, conversion rate (sessions with an order), new
    customers and repeat purchase rate, computed as the Customers report computes them (from
    each order's resolved customer, ``ecrm.customer_orders``, unless ``purchases`` are given)."""
    summary = (period_summary(period.since, period.until) if purchases is None
               else customer_summary(purchases, period.since, period.until))
    sessions = Session.objects.filter(started_at__gte=period.since, started_at__lt=period.until).aggregate(
        sessions=Count("pk"), converted=Count("pk", filter=Q(converted=True)))
    return {"revenue": summary["revenue"], "orders": summary["orders"],
            "average_order_value": summary["average_order_value"], "sessions": sessions["sessions"],
            "conversion_rate": sessions["converted"] / sessions["sessions"] if sessions["sessions"] else None,
            "new_customers": summary["new_customers"], "repeat_rate": summary["repeat_rate"]}


FIGURES = [("revenue", "Revenue", "money"), ("orders", "Orders", "count"),
           ("average_order_value", "Average order value", "money"), ("sessions", "Sessions", "count"),
           ("conversion_rate", "Conversion rate", "rate"), ("new_customers", "New customers", "count"),
           ("repeat_rate", "Repeat purchase rate", "rate")]


def _show(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "rate":
        return f"{100 * value:.1f} %"
    return f"{value:,}"


def comparison(current: dict, previous: dict) -> list[dict]:
    """One row per figure: both values (shown) and the change (relative for amounts and
    counts, in percentage points for rates)."""
    rows = []
    for key, label, kind in FIGURES:
        now, before = current[key], previous[key]
        if now is None or before is None:
            change = ""
        elif kind == "rate":
            change = f"{100 * (now - before):+.1f} pts"
        elif before:
            change = f"{100 * (now - before) / before:+.1f} %"
        else:
            change = "new" if now else ""
        rows.append({"key": key, "label": label, "current": _show(now, kind), "previous": _show(before, kind),
                     "change": change, "value": now, "previous_value": before})
    return rows


def digest_content(frequency: str, today: date, purchases=None) -> dict:
    period = period_ending(frequency, today)
    return {"frequency": frequency, "period": period, "previous": period.previous,
            "rows": comparison(kpis(period, purchases), kpis(period.previous, purchases))}


def site_url() -> str:
    configured = setting("ECRM_SITE_URL")
    if configured:
        return configured.rstrip("/")
    from django.contrib.sites.models import Site

    return f"https://{Site.objects.get_current().domain}"


def may_receive(user) -> bool:
    return user.is_active and user.is_staff and bool(user.email) and user.has_perm(REPORT_PERMISSION)


def due_subscriptions(now: datetime) -> tuple[date, list[DigestSubscription]]:
    """(today in store time, the subscriptions due now): none before the send hour; daily
    ones every day; weekly ones on their weekday."""
    local = timezone.localtime(now)
    if local.hour < setting("ECRM_DIGEST_SEND_HOUR"):
        return local.date(), []
    subscriptions = DigestSubscription.objects.select_related("user").filter(
        Q(frequency=DigestSubscription.DAILY) | Q(frequency=DigestSubscription.WEEKLY, weekday=local.weekday()))
    return local.date(), [s for s in subscriptions if may_receive(s.user)]


def digests_send(*, now: datetime | None = None) -> int:
    """Send every digest due at ``now`` and not yet sent for its period; returns how many went."""
    today, due = due_subscriptions(now or timezone.now())
    if not due:
        return 0
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(user_id=s.user_id, frequency=s.frequency, period_start=period_ending(s.frequency, today).first,
                        period_end=today) for s in due], ignore_conflicts=True)
    contents: dict[str, dict] = {}
    sent = 0
    for subscription in due:
        with transaction.atomic():
            delivery = DigestDelivery.objects.select_for_update(skip_locked=True).filter(
                user_id=subscription.user_id, frequency=subscription.frequency, period_end=today,
                sent_at=None).first()
            if delivery is None:
                continue  # sent already, or being sent by another run
            if subscription.frequency not in contents:
                contents[subscription.frequency] = digest_content(subscription.frequency, today)
            try:
                _send(subscription.user, contents[subscription.frequency])
            except Exception:  # the mail server said no: leave it unsent for the next run
                log.exception("KPI digest to %s not sent", subscription.user.email)
                continue
            delivery.sent_at = timezone.now()
            delivery.save(update_fields=["sent_at"])
            sent += 1
    return sent


def _send(user, content: dict) -> None:
    base = site_url()
    context = {**content, "user": user, "reports_url": base + reverse("ecrm-dashboard:customers-report"),
               "settings_url": base + reverse("ecrm-dashboard:digest"),
               "shop_name": settings.OSCAR_SHOP_NAME}
    subject = (f"{'Daily' if content['frequency'] == DigestSubscription.DAILY else 'Weekly'} KPI digest: "
               f"{content['period'].label}")
    message = EmailMultiAlternatives(subject, render_to_string("ecrm/email/kpi_digest.txt", context),
                                     to=[user.email])
    message.attach_alternative(render_to_string("ecrm/email/kpi_digest.html", context), "text/html")
    message.send()


def recipients():
    """Staff who receive the digest (for the dashboard's list)."""
    return [s for s in DigestSubscription.objects.select_related("user").order_by("user__email")
            if may_receive(s.user)]

