"""What the trigger kinds' queries share: running SQL, who can be reached, whose events are
whose, the store's calendar and validation of a setting that names a record.

Every ``find`` is a few set-based statements over PostgreSQL (no query per customer): the
conditions are joins and aggregates, and only the customers who can be reached (a profile
with an e-mail address or a phone number) come back. Consent is the flow engine's check at
send time (``campaigns.outbox``), where a withdrawal after enrolment still counts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

# A profile a message can reach.
REACHABLE = "(p.email <> '' OR p.phone <> '')"

# The person an event belongs to (as recommender.store_data.event_person decides it, in SQL):
# its user id, else the person its anonymous id is linked to; an earlier user id (alias)
# becomes the person it was merged into. Use with ``EVENT_PERSON_JOINS`` on alias ``e``.
EVENT_PERSON = "COALESCE(al.user_id, NULLIF(e.user_id, ''), an.user_id)"
EVENT_PERSON_JOINS = """
    LEFT JOIN (SELECT DISTINCT ON (identifier) identifier, user_id FROM tracking_identitylink
               WHERE kind = 'anonymous' ORDER BY identifier, first_seen_at DESC) an
           ON e.user_id = '' AND an.identifier = e.anonymous_id
    LEFT JOIN (SELECT DISTINCT ON (identifier) identifier, user_id FROM tracking_identitylink
               WHERE kind = 'alias' ORDER BY identifier, first_seen_at DESC) al
           ON al.identifier = COALESCE(NULLIF(e.user_id, ''), an.user_id)"""

# The person an Oscar order belongs to (as tracking and ecrm key it).
ORDER_PERSON = "(CASE WHEN o.user_id IS NOT NULL THEN o.user_id::text ELSE 'email:' || LOWER(o.guest_email) END)"

# Statuses whose orders are not purchases (nothing to follow up, no repurchase to predict).
NOT_PURCHASED = ("Cancelled", "Returned", "Refunded")


def rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def store_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE or "UTC")


def local_date(now: datetime) -> date:
    """The store's calendar day at ``now`` (birthdays and occasions are days, not instants)."""
    return now.astimezone(store_zone()).date()


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=store_zone())


def iso_week(moment: datetime) -> str:
    year, week, _weekday = local_date(moment).isocalendar()
    return f"{year}-W{week:02d}"


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def days(value: float) -> timedelta:
    return timedelta(days=value)
