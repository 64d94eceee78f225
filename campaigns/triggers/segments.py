"""Joining or leaving a segment, from ecrm's membership history (``SegmentMembership``: a
row per stay, with ``joined_at`` and ``left_at``).

Once per stay: ``window`` = ``<segment id>:<joined at>`` (or ``:<left at>`` for leaving),
so someone who leaves and joins again is a new firing. Only stays that began (or ended)
in the last ``max_age_days`` count: a new flow does not greet every old member. A joiner
who has left again by the time the flow looks is not due.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.triggers.base import Due, Param, Trigger, register
from campaigns.triggers.sql import REACHABLE, days, rows

SEGMENT = Param("segment", "Segment", "segment", help="the ecrm segment whose members this is about")
MAX_AGE = Param("max_age_days", "Only changes within (days)", "int", default=2, min=1, max=90)


def _find(settings: dict, now: datetime, *, joined: bool):
    moment = "m.joined_at" if joined else "m.left_at"
    still = "(m.left_at IS NULL OR m.left_at > %(now)s)" if joined else "TRUE"
    found = rows(f"""
        SELECT p.person_key, {moment} FROM ecrm_segmentmembership m
        JOIN ecrm_profile p ON p.id = m.profile_id AND {REACHABLE}
        WHERE m.segment_id = %(segment)s AND {moment} > %(oldest)s AND {moment} <= %(now)s AND {still}""",
                 {"segment": settings["segment"], "now": now, "oldest": now - days(settings["max_age_days"])})
    for person, at in found:
        suffix = "" if joined else ":left"
        yield Due(person, f"{settings['segment']}:{at.isoformat()}{suffix}", {"segment_id": settings["segment"]}, at=at)


def find_joined(settings: dict, now: datetime):
    return _find(settings, now, joined=True)


def find_left(settings: dict, now: datetime):
    return _find(settings, now, joined=False)


segment_joined = register(Trigger(
    kind="segment_joined", label="Joined a segment",
    description="A customer became a member of a segment.",
    params=(SEGMENT, MAX_AGE), find=find_joined, topic="offers",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_SEGMENT_JOINED"},),
    exits=("left_segment", "unsubscribed"),
))

segment_left = register(Trigger(
    kind="segment_left", label="Left a segment",
    description="A customer stopped matching a segment.",
    params=(SEGMENT, MAX_AGE), find=find_left, topic="offers",
    flow_template=({"wait_hours": 0, "action": "tag", "add": "left-segment"},),
    exits=("unsubscribed",),
))
