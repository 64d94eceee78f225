"""What a campaign (``broadcast:<id>``, ``flow:<id>``: ``Message.campaign``) achieved, and
against what it would have without the messages: its holdout.

* sent, delivered (the provider's webhook said so, or the message was opened or clicked),
  opened (the pixel; a click implies it), clicked (links, not counting known scanners);
* converted: a person with an order (not cancelled) within the attribution window after
  their first message was sent — for a holdout member, after the moment they would have
  got it (``HoldoutMember.at``), counted the same way. Orders are matched to people through
  ecrm's identity graph (``owners_of``): a guest checkout by a recipient's address counts;
* revenue: those orders' totals; lift: the recipients' conversion rate minus the holdout's,
  with Newcombe's interval, and relative (recipients ÷ holdout − 1) with Katz's interval
  (``recommender.ab_stats``); incremental conversions and revenue scaled to the recipients;
* ROI = (attributed revenue − cost) ÷ cost, and the same on incremental revenue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Q
from django.db.models.functions import Lower
from oscar.core.loading import get_model

from campaigns.defaults import setting
from campaigns.models import Broadcast, HoldoutMember, Message, MessageClick, MessageOpen
from recommender.ab_stats import NONE, Estimate, rate_difference, rate_ratio, wilson

DELIVERED_EVENTS = {"delivered", "opened", "clicked"}


@dataclass
class Group:
    people: int = 0
    converted: int = 0
    orders: int = 0
    revenue: Decimal = Decimal("0")
    rate: Estimate = NONE
    # day after exposure (0..window) -> people converted by then
    cumulative: list[int] = field(default_factory=list)


@dataclass
class Results:
    campaign: str
    name: str
    attribution_days: int
    cost: Decimal
    statuses: dict[str, int]
    recipients: int
    sent: int
    delivered: int
    opened: int
    clicked: int
    treated: Group
    holdout: Group
    lift: Estimate
    relative_lift: Estimate
    incremental_conversions: float | None
    incremental_revenue: Decimal | None
    roi: float | None
    incremental_roi: float | None

    def rate(self, count: int) -> float | None:
        return count / self.sent if self.sent else None


def campaign_name(campaign: str) -> tuple[str, int]:
    """A display name and the attribution window of a campaign key ("broadcast:<id>", or
    "<kind>:<id>" of any campaigns model with that name in lower case, e.g. a flow)."""
    from django.apps import apps

    kind, _, pk = campaign.partition(":")
    try:
        model = Broadcast if kind == "broadcast" else apps.get_model("campaigns", kind)
    except LookupError:
        model = None
    found = model.objects.filter(pk=pk).first() if model is not None and pk.isdigit() else None
    days = getattr(found, "attribution_days", None) or setting("CAMPAIGNS_ATTRIBUTION_DAYS")
    return (str(getattr(found, "name", "") or campaign) if found else campaign), days


def _orders_between(start: datetime, end: datetime) -> list[tuple[str, datetime, Decimal]]:
    """(person key, placed, total) of every purchase in the period."""
    from ecrm.customer_reports import NOT_PURCHASES
    from tracking.graph import guest_person

    Order = get_model("order", "Order")
    rows = (Order.objects.filter(date_placed__gte=start, date_placed__lte=end).exclude(status__in=NOT_PURCHASES)
            .annotate(guest=Lower("guest_email")).values_list("user_id", "guest", "date_placed", "total_incl_tax"))
    return [(str(user) if user else guest_person(guest), placed, total) for user, guest, placed, total in rows
            if user or guest]


def _conversions(exposed: dict[str, datetime], orders: list, owner: dict[str, str], days: int) -> Group:
    """People converted within ``days`` of their exposure, their orders and revenue."""
    window = timedelta(days=days)
    by_person = defaultdict(list)
    for person, placed, total in orders:
        by_person[owner.get(person, person)].append((placed, total))
    group = Group(people=len(exposed))
    first_day = [0] * (days + 1)
    for person, at in exposed.items():
        bought = [(placed, total) for placed, total in by_person.get(owner.get(person, person), ())
                  if at <= placed <= at + window]
        if bought:
            group.converted += 1
            group.orders += len(bought)
            group.revenue += sum((total for _placed, total in bought), Decimal("0"))
            first_day[min(days, (min(placed for placed, _ in bought) - at).days)] += 1
    running = 0
    for count in first_day:
        running += count
        group.cumulative.append(running)
    group.rate = wilson(group.converted, group.people)
    return group


def campaign_results(campaign: str, *, cost: Decimal | None = None) -> Results:
    from ecrm.services import owners_of

    name, days = campaign_name(campaign)
    if cost is None:
        broadcast_pk = campaign.partition(":")[2]
        cost = (Broadcast.objects.filter(pk=broadcast_pk).values_list("cost", flat=True).first()
                if campaign.startswith("broadcast:") and broadcast_pk.isdigit() else None) or Decimal("0")
    messages = Message.objects.filter(campaign=campaign)
    statuses = dict(messages.order_by().values_list("status").annotate(n=Count("pk")))
    treated_at = dict(messages.filter(status=Message.SENT).values("person_key").annotate(at=Min("sent_at"))
                      .values_list("person_key", "at"))
    held_at = dict(HoldoutMember.objects.filter(campaign=campaign).values("person_key").annotate(at=Min("at"))
                   .values_list("person_key", "at"))
    orders: list = []
    if treated_at or held_at:
        moments = [*treated_at.values(), *held_at.values()]
        orders = _orders_between(min(moments), max(moments) + timedelta(days=days))
    owner = owners_of({*treated_at, *held_at, *(person for person, _placed, _total in orders)})
    treated = _conversions(treated_at, orders, owner, days)
    holdout = _conversions(held_at, orders, owner, days)

    sent_messages = messages.filter(status=Message.SENT)
    human_clicks = MessageClick.objects.filter(campaign=campaign, automated=False)
    opened = sent_messages.filter(Q(pk__in=MessageOpen.objects.filter(campaign=campaign).values("message_id"))
                                  | Q(pk__in=human_clicks.values("message_id"))).count()
    delivered = sent_messages.filter(Q(delivery_event__in=DELIVERED_EVENTS)
                                     | Q(pk__in=MessageOpen.objects.filter(campaign=campaign).values("message_id"))
                                     | Q(pk__in=human_clicks.values("message_id"))).count()
    clicked = human_clicks.values("message_id").distinct().count()

    lift = rate_difference(holdout.converted, holdout.people, treated.converted, treated.people)
    ratio = rate_ratio(holdout.converted, holdout.people, treated.converted, treated.people)
    relative = Estimate(*(None if v is None else v - 1 for v in (ratio.value, ratio.low, ratio.high)))
    incremental_conversions = incremental_revenue = None
    if treated.people and holdout.people:
        incremental_conversions = lift.value * treated.people
        per_holdout = holdout.revenue / holdout.people
        incremental_revenue = (treated.revenue - per_holdout * treated.people).quantize(Decimal("0.01"))
    roi = float((treated.revenue - cost) / cost) if cost else None
    incremental_roi = float((incremental_revenue - cost) / cost) if cost and incremental_revenue is not None else None
    return Results(campaign=campaign, name=name, attribution_days=days, cost=cost, statuses=statuses,
                   recipients=sum(statuses.values()), sent=sent_messages.count(), delivered=delivered,
                   opened=opened, clicked=clicked, treated=treated, holdout=holdout, lift=lift,
                   relative_lift=relative, incremental_conversions=incremental_conversions,
                   incremental_revenue=incremental_revenue, roi=roi, incremental_roi=incremental_roi)


def campaigns_known() -> list[str]:
    """Every campaign key with messages or a holdout, newest first."""
    keys = set(Message.objects.exclude(campaign="").values_list("campaign", flat=True).distinct())
    keys |= set(HoldoutMember.objects.values_list("campaign", flat=True).distinct())
    return sorted(keys, key=lambda k: (k.partition(":")[0], -int(k.partition(":")[2] or 0)
                                       if k.partition(":")[2].isdigit() else 0))


def results_rows(results: Results) -> list[tuple[str, object]]:
    """The figures as (label, value) rows: the CSV export and the page's table."""
    def est(e: Estimate):
        return "" if e.value is None else round(e.value, 6)

    def bound(e: Estimate, which: str):
        value = getattr(e, which)
        return "" if value is None else round(value, 6)

    return [
        ("campaign", results.campaign), ("name", results.name), ("attribution_days", results.attribution_days),
        ("recipients", results.recipients), ("sent", results.sent), ("delivered", results.delivered),
        ("opened", results.opened), ("clicked", results.clicked),
        ("converted", results.treated.converted), ("orders", results.treated.orders),
        ("revenue", results.treated.revenue), ("conversion_rate", est(results.treated.rate)),
        ("holdout", results.holdout.people), ("holdout_converted", results.holdout.converted),
        ("holdout_revenue", results.holdout.revenue), ("holdout_conversion_rate", est(results.holdout.rate)),
        ("lift", est(results.lift)), ("lift_low", bound(results.lift, "low")), ("lift_high", bound(results.lift, "high")),
        ("relative_lift", est(results.relative_lift)), ("relative_lift_low", bound(results.relative_lift, "low")),
        ("relative_lift_high", bound(results.relative_lift, "high")),
        ("incremental_conversions", "" if results.incremental_conversions is None
         else round(results.incremental_conversions, 2)),
        ("incremental_revenue", "" if results.incremental_revenue is None else results.incremental_revenue),
        ("cost", results.cost), ("roi", "" if results.roi is None else round(results.roi, 4)),
        ("incremental_roi", "" if results.incremental_roi is None else round(results.incremental_roi, 4)),
    ]


def chart_data(results: Results) -> dict:
    """Cumulative conversion rate by day after the send, recipients against the holdout."""
    def rates(group: Group) -> list:
        return [round(100 * c / group.people, 3) if group.people else None for c in group.cumulative]

    return {"days": [f"day {d}" for d in range(results.attribution_days + 1)],
            "treated": rates(results.treated), "holdout": rates(results.holdout),
            "funnel_labels": ["sent", "delivered", "opened", "clicked", "converted"],
            "funnel": [results.sent, results.delivered, results.opened, results.clicked, results.treated.converted]}

