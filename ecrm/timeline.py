"""A customer's timeline: their events, the e-mails the store sent them, staff notes,
staff actions and consent changes, merged newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ecrm.card import customer_messages
from ecrm.models import Profile, ProfileAccess
from tracking.graph import events_of_user


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # event, message, note, staff, consent
    title: str
    detail: str = ""
    event_id: int | None = None


def _event_detail(event) -> str:
    page = (event.context or {}).get("page") or {}
    properties = event.properties or {}
    if event.event == "Products Searched":
        return f"“{properties.get('query', '')}”"
    if properties.get("name") or properties.get("order_id"):
        return str(properties.get("order_id") or properties.get("name"))
    return page.get("path", "")


def customer_timeline(profile: Profile, *, limit: int = 200) -> list[Entry]:
    entries = [Entry(e.timestamp, "event", e.event or e.name or e.type, _event_detail(e), e.pk)
               for e in events_of_user(profile.person_key).order_by("-timestamp")[:limit]]
    entries += [Entry(n.created_at, "note", f"Note by {n.author or 'a former member of staff'}", n.text)
                for n in profile.notes.select_related("author")[:limit]]
    entries += [Entry(a.at, "staff", f"{a.staff or 'A former member of staff'} {a.get_action_display()}",
                      a.detail)
                for a in profile.accesses.exclude(action__in=[ProfileAccess.VIEW, ProfileAccess.NOTE])
                .select_related("staff")[:limit]]
    entries += [Entry(c.recorded_at, "consent",
                      f"{'Gave' if c.granted else 'Withdrew'} {c.get_channel_display()} consent ({c.topic})",
                      f"via {c.source}") for c in profile.consents.all()[:limit]]
    entries += [Entry(m.date_sent, "message", f"E-mail: {m.subject}", m.email or profile.email)
                for m in customer_messages(profile, limit=limit)]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]
