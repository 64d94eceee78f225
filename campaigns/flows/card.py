"""The customer card's "Flows" tab (registered in ECRM_CARD_TABS by the shop): where the
customer is in each flow — the step they wait for and when it runs, held out, completed,
or why they left — with the steps done so far; and the gift occasions the occasion reminder
writes to them about (given at checkout or in their account, where the customer edits and
deletes them; staff see them here, read-only, with the next anniversary and the order they
came with)."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone

from campaigns.flow_models import FlowEnrolment
from campaigns.trigger_models import Occasion


def next_anniversary(occasion: Occasion, today: datetime.date) -> datetime.date:
    """The next date (today included) the occasion falls on; 29 February is the 28th in
    other years."""
    for year in (today.year, today.year + 1):
        try:
            date = datetime.date(year, occasion.month, occasion.day)
        except ValueError:
            date = datetime.date(year, occasion.month, occasion.day - 1)
        if date >= today:
            return date
    raise AssertionError("unreachable")  # pragma: no cover


def occasions_of(profile) -> list[Occasion]:
    mine = Q(person_key=profile.person_key) | (Q(user_id=profile.user_id) if profile.user_id else Q(pk__in=[]))
    today = timezone.localdate()
    occasions = list(Occasion.objects.filter(mine).select_related("order"))
    for occasion in occasions:
        occasion.next_date = next_anniversary(occasion, today)
    return sorted(occasions, key=lambda o: o.next_date)


def flows_tab(profile, request) -> dict:
    enrolments = list(FlowEnrolment.objects.filter(person_key=profile.person_key)
                      .select_related("flow", "step").order_by("-enrolled_at")[:100])
    return {"flow_enrolments": enrolments, "gift_occasions": occasions_of(profile)}


flows_tab.name = "flows"
flows_tab.label = "Flows"
flows_tab.template_name = "campaigns/flows/card_tab.html"
