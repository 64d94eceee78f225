"""Moments in the customer's own life: registration, birthday, and the gift occasions they
told us about at checkout.

*Welcome series*: an account registered (Oscar's ``date_joined``) in the last
``max_age_hours``, ``delay_hours`` ago. Once per customer (``window`` = ``welcome``).

*Birthday*: ``days_before`` the anniversary of the profile's ``birthday`` trait (Segment's
reserved identify trait: ``1990-05-14``, or ``--05-14`` without a year), on the store's
calendar; 29 February is celebrated on the 28th in other years. Once a year (``window`` =
the year).

*Occasion reminder*: ``days_before`` the anniversary of a ``campaigns.Occasion`` (a gift
recipient and date given at checkout or in the account), with a gift selection: what goes
with what they bought for it, then the store's best sellers. Once per occasion and year.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from campaigns.triggers.base import Due, Param, Trigger, register
from campaigns.triggers.products import best_sellers, bought_together, together_with
from campaigns.triggers.sql import REACHABLE, days, hours, local_date, local_midnight, rows

# The next anniversaries (this year's and next year's) of month ``m`` and day ``d``, as rows ``ann``.
ANNIVERSARIES = """
    CROSS JOIN LATERAL (VALUES (%(year)s), (%(year)s + 1)) AS y(year)
    CROSS JOIN LATERAL (SELECT MAKE_DATE(y.year, x.m, LEAST(x.d, EXTRACT(DAY FROM
                            MAKE_DATE(y.year, x.m, 1) + INTERVAL '1 month - 1 day')::int)) AS ann) a"""
IN_REMINDER = "a.ann >= %(today)s AND a.ann <= %(today)s + %(days_before)s"


def find_welcome(settings: dict, now: datetime):
    delay = hours(settings["delay_hours"])
    for person, joined in rows(f"""
            SELECT p.person_key, u.date_joined FROM auth_user u
            JOIN ecrm_profile p ON p.person_key = u.id::text AND {REACHABLE}
            WHERE u.is_active AND u.date_joined > %(oldest)s AND u.date_joined <= %(ready)s""",
                               {"oldest": now - hours(settings["max_age_hours"]), "ready": now - delay}):
        yield Due(person, "welcome", {}, at=joined + delay)


def _reminder_params(settings: dict, now: datetime) -> dict:
    today = local_date(now)
    return {"today": today, "year": today.year, "days_before": settings["days_before"]}


def reminder_days(today: date, days_before: int) -> dict[str, date]:
    """"MM-DD" -> the anniversary it falls on, for every anniversary from ``today`` to
    ``days_before`` days later (29 February: on the 28th in other years)."""
    found = {}
    for offset in range(days_before + 1):
        day = today + timedelta(days=offset)
        found[f"{day:%m-%d}"] = day
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            found["02-29"] = day
    return found


def find_birthdays(settings: dict, now: datetime):
    # The few month-days in the reminder window are computed here, so the query is one
    # filtered scan of the profiles' traits.
    due_on = reminder_days(local_date(now), settings["days_before"])
    found = rows(f"""
        SELECT person_key, md FROM (
            SELECT p.person_key, SUBSTRING(p.traits->>%(trait)s FROM '^(?:[0-9]{{4}}-|--)([0-9]{{2}}-[0-9]{{2}})') AS md
            FROM ecrm_profile p
            WHERE {REACHABLE} AND jsonb_typeof(p.traits) = 'object' AND p.traits ? %(trait)s) t
        WHERE md = ANY(%(month_days)s)""", {"trait": settings["trait"], "month_days": list(due_on)})
    for person, month_day in found:
        anniversary = due_on[month_day]
        yield Due(person, str(anniversary.year), {"birthday": anniversary.isoformat()},
                  at=local_midnight(anniversary - days(settings["days_before"])))


def find_occasions(settings: dict, now: datetime):
    found = rows(f"""
        SELECT x.person_key, x.id, a.ann,
               ARRAY(SELECT l.product_id FROM order_line l WHERE l.order_id = x.order_id AND l.product_id IS NOT NULL)
        FROM (SELECT o.id, o.person_key, o.order_id, o.month AS m, o.day AS d FROM campaigns_occasion o
              JOIN ecrm_profile p ON p.person_key = o.person_key AND {REACHABLE}
              WHERE o.created_at <= %(now)s) x {ANNIVERSARIES}
        WHERE {IN_REMINDER}""", {**_reminder_params(settings, now), "now": now})
    if not found:
        return
    k = settings["gift_count"]
    lists = bought_together({p for row in found for p in row[3]}, now)
    popular = best_sellers(now, k=k * 2)
    for person, occasion_id, anniversary, bought in found:
        gifts = together_with(bought, lists, k)
        gifts += [p for p in popular if p not in gifts and p not in bought][:k - len(gifts)]
        yield Due(person, f"{occasion_id}:{anniversary.year}",
                  {"occasion_id": occasion_id, "product_ids": gifts, "date": anniversary.isoformat()},
                  at=local_midnight(anniversary - days(settings["days_before"])))


welcome = register(Trigger(
    kind="welcome", label="Welcome series",
    description="A customer registered an account.",
    params=(Param("delay_hours", "Wait after registering (hours)", "float", default=0, min=0, max=24 * 7),
            Param("max_age_hours", "Ignore registrations older than (hours)", "float", default=72, min=1,
                  max=24 * 90)),
    find=find_welcome, topic="newsletter",
    flow_template=(
        {"wait_hours": 0, "action": "email", "template": "CAMPAIGN_WELCOME"},
        {"wait_hours": 72, "action": "email", "template": "CAMPAIGN_WELCOME_PICKS"},
    ),
    exits=("unsubscribed",),
))

birthday = register(Trigger(
    kind="birthday", label="Birthday",
    description="A customer's birthday is coming (their birthday trait).",
    params=(Param("days_before", "Days before the birthday", "int", default=3, min=0, max=60),
            Param("trait", "Profile trait holding the date", "str", default="birthday")),
    find=find_birthdays, topic="offers",
    flow_template=(
        {"wait_hours": 0, "action": "voucher", "percent": 15, "valid_days": 14},
        {"wait_hours": 0, "action": "email", "template": "CAMPAIGN_BIRTHDAY"},
    ),
    exits=("unsubscribed",),
))

occasion = register(Trigger(
    kind="occasion", label="Occasion reminder",
    description="An occasion the customer buys gifts for (given at checkout) is coming.",
    params=(Param("days_before", "Days before the occasion", "int", default=14, min=1, max=90),
            Param("gift_count", "Gift ideas in the message", "int", default=4, min=1, max=12)),
    find=find_occasions, topic="offers",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_OCCASION"},),
    exits=("unsubscribed",),
))
