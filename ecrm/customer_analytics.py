"""The customer card's Analytics tab: how one customer finds and uses the store — what
they searched for outside (search engines, campaign terms) and inside it, the products
they viewed, where their visits entered and came from, and time on site and pages per
session (averages and per session). All of their identities count: accounts merged
into theirs, guest checkouts with their e-mail, and the devices linked to them."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.fields.json import KT
from oscar.core.loading import get_model

from ecrm.models import Profile
from ecrm.services import identities_of
from tracking.graph import events_of_user
from tracking.models import Session

Product = get_model("catalogue", "Product")
TOP, RECENT_SESSIONS = 15, 30


def customer_sessions_all(profile: Profile):
    """Every session of theirs (the support desk's sessions tab shows the latest 100)."""
    ids = identities_of({profile.person_key})[profile.person_key]
    return Session.objects.filter(Q(user_id__in=ids.users) | Q(visitor__in=ids.anonymous | ids.users))


def customer_analytics(profile: Profile) -> dict:
    sessions = customer_sessions_all(profile)
    duration = ExpressionWrapper(F("last_event_at") - F("started_at"), output_field=DurationField())
    totals = sessions.aggregate(sessions=Count("pk"), pages=Sum("page_count"), events=Sum("event_count"),
                                time=Sum(duration), converted=Count("pk", filter=Q(converted=True)))
    count = totals["sessions"]
    time_on_site = totals["time"] or timedelta()
    recent = list(sessions.order_by("-started_at")[:RECENT_SESSIONS])
    events = events_of_user(profile.person_key).order_by()
    return {
        "sessions": count,
        "converted_sessions": totals["converted"],
        "time_on_site": time_on_site,
        "average_time": time_on_site / count if count else None,
        "average_pages": (totals["pages"] or 0) / count if count else None,
        "average_events": (totals["events"] or 0) / count if count else None,
        "recent_sessions": recent,
        "entry_points": list(sessions.exclude(entry_path="").values("entry_path").annotate(
            visits=Count("pk"), last=Max("started_at")).order_by("-visits", "-last")[:TOP]),
        "sources": list(sessions.values("source", "medium", "campaign").annotate(
            visits=Count("pk"), orders=Count("pk", filter=Q(converted=True)), last=Max("started_at")).order_by(
            "-visits", "-last")[:TOP]),
        "external_searches": list(sessions.exclude(search_terms="").values("search_terms", "source").annotate(
            times=Count("pk"), last=Max("started_at")).order_by("-times", "-last")[:TOP]),
        "internal_searches": [row for row in events.filter(event="Products Searched").annotate(
            query=KT("properties__query")).values("query").annotate(times=Count("pk"), last=Max("timestamp")).order_by(
            "-times", "-last")[:TOP] if row["query"]],
        "viewed_products": _viewed_products(events),
        "chart": {"labels": [f"{s.started_at:%d %b %H:%M}" for s in reversed(recent)],
                  "minutes": [round(s.duration.total_seconds() / 60, 1) for s in reversed(recent)],
                  "pages": [s.page_count for s in reversed(recent)]},
    }


def _viewed_products(events) -> list[dict]:
    rows = list(events.filter(event="Product Viewed").annotate(pid=KT("properties__product_id")).values(
        "pid").annotate(views=Count("pk"), last=Max("timestamp"), name=Max(KT("properties__name"))).order_by(
        "-views", "-last")[:TOP])
    ids = {int(row["pid"]) for row in rows if (row["pid"] or "").isdigit()}
    titles = dict(Product.objects.filter(pk__in=ids).values_list("pk", "title"))
    for row in rows:
        key = row["pid"] or ""
        row["product_id"] = int(key) if key.isdigit() and int(key) in titles else None
        row["title"] = titles.get(row["product_id"]) or row["name"] or key or "?"
    return rows
