"""Exit conditions, for a batch of enrolments at once (a few grouped queries per batch,
whatever its size): who placed an order, withdrew consent, left the segment, emptied
their basket or added the product since they entered the flow.

Each check compares with the enrolment's ``started_at`` (when the trigger's condition
became true): an order placed after the basket was abandoned ends the abandoned-basket
flow even if the tick that enrolled the customer came later.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Max
from django.db.models.functions import Lower
from oscar.core.loading import get_model

GUEST = "email:"
Order = get_model("order", "Order")
Basket = get_model("basket", "Basket")


def flow_channels(flow) -> set[str]:
    """The consent channels the flow messages customers on."""
    return {step.kind for step in flow.steps.all() if step.kind in ("email", "sms")}


def exit_reasons(enrolments: list, *, transactional: dict[int, bool]) -> dict[int, str]:
    """enrolment pk -> why it leaves now (the first exit that holds); those staying are absent.
    ``transactional``: flow pk -> whether its trigger is transactional (no consent exit)."""
    reasons: dict[int, str] = {}
    wanting = defaultdict(list)
    for enrolment in enrolments:
        for code in enrolment.flow.exits or []:
            wanting[code].append(enrolment)
    checks = (("order_placed", _ordered), ("unsubscribed", lambda rows: _unsubscribed(rows, transactional)),
              ("left_segment", _left_segment), ("basket_emptied", _basket_emptied),
              ("product_added", _product_added))
    for code, check in checks:
        rows = [e for e in wanting.get(code, []) if e.pk not in reasons]
        if rows:
            reasons.update(check(rows))
    return reasons


def _ordered(rows) -> dict[int, str]:
    users = {int(e.person_key) for e in rows if e.person_key.isdigit()}
    guests = {e.person_key.removeprefix(GUEST).lower() for e in rows if e.person_key.startswith(GUEST)}
    latest = {}
    if users:
        for user_id, at in Order.objects.filter(user_id__in=users).values("user_id").annotate(
                at=Max("date_placed")).values_list("user_id", "at"):
            latest[str(user_id)] = at
    if guests:
        for email, at in Order.objects.annotate(guest=Lower("guest_email")).filter(
                user__isnull=True, guest__in=guests).values("guest").annotate(at=Max("date_placed")).values_list(
                "guest", "at"):
            latest[GUEST + email] = at
    return {e.pk: f"placed an order on {latest[e.person_key]:%Y-%m-%d %H:%M}" for e in rows
            if e.person_key in latest and latest[e.person_key] > e.started_at}


def _unsubscribed(rows, transactional: dict[int, bool]) -> dict[int, str]:
    """No consent in force for the flow's topic on any channel it messages on (ecrm's own
    consent rule, evaluated for the whole batch)."""
    from ecrm.models import Profile
    from ecrm.segment_rules import compile_rule

    groups, channels_of = defaultdict(list), {}
    for enrolment in rows:
        if enrolment.flow_id not in channels_of:
            channels_of[enrolment.flow_id] = flow_channels(enrolment.flow)
        channels = channels_of[enrolment.flow_id]
        if channels and not transactional.get(enrolment.flow_id):
            groups[(enrolment.flow.topic or "all", tuple(sorted(channels)))].append(enrolment)
    reasons = {}
    for (topic, channels), members in groups.items():
        rule = {"any": [{"consent": {"channel": channel, "topic": topic}} for channel in channels]}
        consenting = set(Profile.objects.filter(person_key__in={e.person_key for e in members})
                         .filter(compile_rule(rule)).values_list("person_key", flat=True))
        for enrolment in members:
            if enrolment.person_key not in consenting:
                reasons[enrolment.pk] = f"no consent for {' or '.join(channels)} / {topic}"
    return reasons


def _left_segment(rows) -> dict[int, str]:
    from ecrm.models import SegmentMembership

    with_segment = [e for e in rows if str(e.context.get("segment_id") or "").isdigit()]
    current = set(SegmentMembership.objects.filter(
        left_at=None, segment_id__in={int(e.context["segment_id"]) for e in with_segment},
        profile__person_key__in={e.person_key for e in with_segment}).values_list("segment_id", "profile__person_key"))
    return {e.pk: "left the segment" for e in with_segment
            if (int(e.context["segment_id"]), e.person_key) not in current}


def _basket_emptied(rows) -> dict[int, str]:
    with_basket = [e for e in rows if str(e.context.get("basket_id") or "").isdigit()]
    baskets = {pk: (status, lines) for pk, status, lines in Basket.objects.filter(
        pk__in={int(e.context["basket_id"]) for e in with_basket}).annotate(n=Count("lines")).values_list(
        "pk", "status", "n")}
    reasons = {}
    for enrolment in with_basket:
        status, lines = baskets.get(int(enrolment.context["basket_id"]), (None, 0))
        if status is None or not lines:
            reasons[enrolment.pk] = "their basket is empty" if status else "their basket is gone"
        elif status == Basket.MERGED:
            reasons[enrolment.pk] = "their basket was merged into another"
    return reasons


def _product_added(rows) -> dict[int, str]:
    """A "Product Added" event of theirs, for one of the flow's products, since they entered."""
    from tracking.models import Event

    with_products = [e for e in rows if e.context.get("product_ids")]
    if not with_products:
        return {}
    since = min(e.started_at for e in with_products)
    added = defaultdict(list)
    for user_id, product_id, at in Event.objects.filter(
            event="Product Added", user_id__in={e.person_key for e in with_products}, timestamp__gte=since
    ).values_list("user_id", "properties__product_id", "timestamp"):
        added[user_id].append((str(product_id), at))
    reasons = {}
    for enrolment in with_products:
        wanted = {str(p) for p in enrolment.context["product_ids"]}
        if any(pid in wanted and at > enrolment.started_at for pid, at in added.get(enrolment.person_key, [])):
            reasons[enrolment.pk] = "added the product to their basket"
    return reasons
