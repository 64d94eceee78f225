"""Daily aggregates for the traffic, product and funnel reports, kept current as events are stored.

Why: a report over a month of a busy shop would otherwise read a million events each time
it is opened. Instead every batch the tracking consumer stores is counted here
(``aggregates_apply``) moments later: the consumer records the batch as pending in its
transaction and a Celery task counts pending batches, oldest first, exactly once
(``ecrm.aggregates_pending`` explains how). ``aggregates_rebuild`` recomputes a date range
from the raw events and sessions (``ecrm_rebuild_aggregates``): after a retention purge,
when events arrived long after the fact, or when identity links have since changed a
first touch.

What is counted on which day (local dates in ``TIME_ZONE``):

* ``TrafficDay`` sessions: on the day the session started, once per dimension value of its
  traffic source; converted sessions: those sessions in which an order was completed.
* orders and revenue: on the day of the ``Order Completed`` event; last touch credits the
  order's own session, first touch the earliest session of the same person (every visitor
  id linked to them) up to the order. Revenue is the order total (``total``, else
  ``revenue``), as ecrm's other reports count it.
* ``ProductDay``: a session counts for a product on the day it first viewed (first added)
  it; an order counts once for each product in it.
* ``SessionProgress``: each session as counted so far (how far along the default funnel,
  which products it viewed and added, whether it converted), so that a batch is compared
  with one row per session rather than with the session's whole history; a session without
  one has not been counted yet. Only a batch that brings a session's events out of time
  order is replayed from the stored events.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from ecrm.funnels import DEFAULT_STEPS, SessionTrace, progress
from ecrm.models import ProductDay, SessionProgress, TrafficDay
from tracking.graph import guest_person
from tracking.models import Event, IdentityLink, Session

VIEW, ADD, ORDER = "Product Viewed", "Product Added", "Order Completed"
FUNNEL_EVENTS = [step["event"] for step in DEFAULT_STEPS if "event" in step]
SESSION_COLUMNS = ("key", "visitor", "user_id", "started_at", "source", "medium", "campaign", "entry_path",
                   "referrer_domain", "search_terms")
TRAFFIC_FIELDS = ("sessions", "converted_sessions", "orders", "revenue", "first_touch_orders",
                  "first_touch_revenue")
PRODUCT_FIELDS = ("viewing_sessions", "adding_sessions", "orders")
CHUNK = 2000


@dataclass(frozen=True)
class Touch:
    """A session as the traffic report sees it."""

    key: str
    started_at: datetime
    source: str = ""
    medium: str = ""
    campaign: str = ""
    landing_page: str = ""
    referrer: str = ""
    search_term: str = ""

    @classmethod
    def of(cls, row: tuple) -> "Touch":
        """From a ``Session.values_list(*SESSION_COLUMNS)`` row."""
        key, _visitor, _user, started_at, source, medium, campaign, entry_path, referrer, terms = row
        return cls(key, started_at, source, medium, campaign, entry_path, referrer, terms)

    def values(self) -> dict[str, str]:
        return {dimension: getattr(self, dimension) for dimension, _label in TrafficDay.DIMENSIONS}


def local_day(moment: datetime) -> date:
    return timezone.localdate(moment)


def revenue_of(properties: dict) -> Decimal:
    """An order event's total: Segment's ``total``, else ``revenue`` (0 when neither is a number)."""
    for name in ("total", "revenue"):
        try:
            return Decimal(str(properties[name])).quantize(Decimal("0.01"))
        except (KeyError, InvalidOperation, TypeError, ValueError):
            continue
    return Decimal("0.00")


def products_of(properties: dict) -> set[str]:
    products = properties.get("products") if isinstance(properties, dict) else None
    return {str(item["product_id"]) for item in products or [] if isinstance(item, dict) and item.get("product_id")}


@dataclass
class State:
    """A session's ``SessionProgress`` in plain Python."""

    reached: int = 1
    reached_at: datetime | None = None
    seen_until: datetime | None = None
    viewed: frozenset = frozenset()
    added: frozenset = frozenset()
    converted: bool = False

    @classmethod
    def of(cls, row: tuple) -> "State":
        """From (reached, reached_at, seen_until, viewed, added, converted) as a cursor reads
        them (the product lists as JSON text on PostgreSQL, as lists elsewhere)."""
        reached, reached_at, seen_until, viewed, added, converted = row
        viewed, added = (json.loads(v) if isinstance(v, str) else v for v in (viewed, added))
        return cls(reached, reached_at, seen_until, frozenset(viewed), frozenset(added), converted)

    def later(self, events: list[tuple]) -> bool:
        """Whether every one of these (time, name, product) funnel events is later than all
        those counted: only then may ``advanced`` resume instead of replaying."""
        return self.seen_until is None or all(when > self.seen_until for when, _n, _p in events)

    def advanced(self, events: list[tuple]) -> "State":
        """This state after these (time, name, product id) funnel events: the funnel resumed
        with ``ecrm.funnels.progress`` (exact when ``later``), the product sets grown."""
        if not events:
            return self
        trace = SessionTrace("", 0, [(when, name) for when, name, _p in sorted(events, key=lambda e: e[0])])
        reached, moment = progress(trace, DEFAULT_STEPS, start=self.reached, moment=self.reached_at)
        return State(reached, moment, max(self.seen_until or events[0][0], *(when for when, _n, _p in events)),
                     self.viewed | {p for _w, n, p in events if n == VIEW and p},
                     self.added | {p for _w, n, p in events if n == ADD and p},
                     self.converted or any(n == ORDER for _w, n, _p in events))


def _funnel_event(when: datetime, name: str, properties) -> tuple:
    product_id = (properties or {}).get("product_id") if name in (VIEW, ADD) and isinstance(properties, dict) else None
    return when, name, str(product_id)[:100] if product_id else ""


def _histories(keys, upto: dict[str, int] | None = None) -> dict[str, list[tuple]]:
    """Every stored funnel event of these sessions as (time, name, product id, message id);
    with ``upto``, only those with an event id up to the session's value there (the events
    of batches stored after the ones being counted are left for their own turn)."""
    found = defaultdict(list)
    keys = list(keys)
    for start in range(0, len(keys), CHUNK):
        for session_id, when, name, product_id, message_id, pk in Event.objects.filter(
                session_id__in=keys[start:start + CHUNK], event__in=FUNNEL_EVENTS).values_list(
                "session_id", "timestamp", "event", "properties__product_id", "message_id", "pk"):
            if upto is None or pk <= upto[session_id]:
                found[session_id].append((*_funnel_event(when, name, {"product_id": product_id}), message_id))
    return found


@dataclass
class Tally:
    """Increments to add to the daily tables, gathered before one write."""

    traffic: dict = field(default_factory=lambda: defaultdict(Counter))
    products: dict = field(default_factory=lambda: defaultdict(Counter))
    progress: dict = field(default_factory=dict)  # session key -> (Touch, State)

    def session(self, touch: Touch, *, converted: bool = False) -> None:
        name = "converted_sessions" if converted else "sessions"
        for dimension, value in touch.values().items():
            self.traffic[(dimension, local_day(touch.started_at), value[:500])][name] += 1

    def order(self, day: date, revenue: Decimal, last: Touch | None, first: Touch | None, products: set[str]) -> None:
        for touch, prefix in ((last, ""), (first, "first_touch_")):
            values = touch.values() if touch else dict.fromkeys(dict(TrafficDay.DIMENSIONS), "")
            for dimension, value in values.items():
                counts = self.traffic[(dimension, day, value[:500])]
                counts[f"{prefix}orders"] += 1
                counts[f"{prefix}revenue"] += revenue
        for product_id in products:
            self.products[(day, product_id[:100])]["orders"] += 1

    def product(self, day: date, product_id: str, event: str) -> None:
        self.products[(day, product_id[:100])]["viewing_sessions" if event == VIEW else "adding_sessions"] += 1

    def save(self) -> None:
        _upsert_adding(TrafficDay, ("dimension", "day", "value"), TRAFFIC_FIELDS,
                       [(*key, *(counts[f] for f in TRAFFIC_FIELDS)) for key, counts in sorted(self.traffic.items())])
        _upsert_adding(ProductDay, ("day", "product_id"), PRODUCT_FIELDS,
                       [(*key, *(counts[f] for f in PRODUCT_FIELDS)) for key, counts in sorted(self.products.items())])
        if self.progress:
            _upsert_progress([
                {"session_key": key, "day": local_day(touch.started_at), "source": touch.source[:100],
                 "medium": touch.medium[:100], "campaign": touch.campaign[:200], "reached": state.reached,
                 "reached_at": state.reached_at, "seen_until": state.seen_until, "viewed": sorted(state.viewed),
                 "added": sorted(state.added), "converted": state.converted}
                for key, (touch, state) in sorted(self.progress.items())])


def _rows_having(model, column: str, values: set[str], columns: tuple) -> list[tuple]:
    """``columns`` of the ``model`` rows whose ``column`` is one of ``values``. On PostgreSQL
    one array parameter (``= ANY(%s)``) read by a plain cursor: the consumer asks this for a
    whole batch's sessions, and Django's ``__in`` prepares each of thousands of values on its
    own, which cost more than the query (JSON columns come back as text there)."""
    if connection.vendor != "postgresql":
        return list(model.objects.filter(**{f"{column}__in": values}).values_list(*columns))
    quote = connection.ops.quote_name
    selected = ", ".join(quote(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selected} FROM {quote(model._meta.db_table)} "
                       f"WHERE {quote(model._meta.get_field(column).column)} = ANY(%s)", [list(values)])
        return cursor.fetchall()


PROGRESS_TYPES = {"session_key": "varchar", "day": "date", "source": "varchar", "medium": "varchar",
                  "campaign": "varchar", "reached": "smallint", "reached_at": "timestamptz",
                  "seen_until": "timestamptz", "viewed": "jsonb", "added": "jsonb", "converted": "boolean"}


def _upsert_progress(rows: list[dict]) -> None:
    """Insert or replace progress rows: on PostgreSQL one statement over column arrays
    (``unnest``), a tenth of what ``bulk_create(update_conflicts=True)`` spends preparing
    a batch's rows; elsewhere ``bulk_create``."""
    if connection.vendor != "postgresql":
        SessionProgress.objects.bulk_create(
            [SessionProgress(**row) for row in rows], update_conflicts=True, unique_fields=["session_key"],
            batch_size=1000, update_fields=[c for c in PROGRESS_TYPES if c not in ("session_key", "day", "source",
                                                                                     "medium", "campaign")])
        return
    quote = connection.ops.quote_name
    table = quote(SessionProgress._meta.db_table)
    columns = ", ".join(quote(c) for c in PROGRESS_TYPES)
    arrays = ", ".join(f"%s::{'text' if kind == 'jsonb' else kind}[]" for kind in PROGRESS_TYPES.values())
    selected = ", ".join(f"{quote(c)}::jsonb" if kind == "jsonb" else quote(c) for c, kind in PROGRESS_TYPES.items())
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in
                        ("reached", "reached_at", "seen_until", "viewed", "added", "converted"))
    params = [[json.dumps(row[c]) if kind == "jsonb" else row[c] for row in rows]
              for c, kind in PROGRESS_TYPES.items()]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {selected} FROM unnest({arrays}) "
                       f"AS t({columns}) ON CONFLICT (session_key) DO UPDATE SET {updates}", params)


def _upsert_adding(model, keys: tuple, fields: tuple, rows: list[tuple]) -> None:
    """Insert rows, or add their counts to the rows already there (one statement per chunk;
    rows in key order, so two consumers never wait on each other in opposite orders)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in (*keys, *fields))
    updates = ", ".join(f"{connection.ops.quote_name(f)} = {table}.{connection.ops.quote_name(f)} + "
                        f"EXCLUDED.{connection.ops.quote_name(f)}" for f in fields)
    conflict = ", ".join(connection.ops.quote_name(c) for c in keys)
    placeholder = "(" + ", ".join(["%s"] * (len(keys) + len(fields))) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholder] * len(chunk))} "
                           f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
                           [value for row in chunk for value in row])


# --- Who touched an order first -------------------------------------------------------------


def first_touches(orders: list[tuple[str, str, str, datetime]]) -> dict[str, Touch]:
    """For (message id, anonymous id, user id, time) of orders: the earliest session up to the
    order of the same person, every visitor id linked to them included (as the profile's
    first touch is found); a visitor linked to nobody is only themselves."""
    from ecrm.services import identities_of, owners_of

    anonymous = {anon for _m, anon, user, _t in orders if anon and not user}
    linked = dict(IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS, identifier__in=anonymous)
                  .order_by("first_seen_at").values_list("identifier", "user_id"))
    person_of = {}
    for message_id, anon, user, _when in orders:
        person = user or linked.get(anon) or (guest_person(anon.removeprefix("guest:")) if anon.startswith("guest:")
                                              else "")
        if person:
            person_of[message_id] = person
    owner = owners_of(set(person_of.values()))
    found = identities_of(set(owner.values()))
    ids_of = {}
    for message_id, anon, user, _when in orders:
        ids = found.get(owner.get(person_of.get(message_id, ""), ""))
        visitors = {anon, user, *(ids.anonymous | ids.users if ids else ())} - {""}
        users = {user, *(ids.users if ids else ())} - {""}
        ids_of[message_id] = (visitors, users)
    all_visitors = set().union(*(v for v, _u in ids_of.values())) if ids_of else set()
    all_users = set().union(*(u for _v, u in ids_of.values())) if ids_of else set()
    by_visitor, by_user = defaultdict(list), defaultdict(list)
    for row in Session.objects.filter(Q(visitor__in=all_visitors) | Q(user_id__in=all_users)).values_list(
            *SESSION_COLUMNS).iterator(chunk_size=CHUNK):
        touch = Touch.of(row)
        by_visitor[row[1]].append(touch)
        if row[2]:
            by_user[row[2]].append(touch)
    touches = {}
    for message_id, _anon, _user, when in orders:
        visitors, users = ids_of[message_id]
        candidates = ([t for v in visitors for t in by_visitor.get(v, ())]
                      + [t for u in users for t in by_user.get(u, ())])
        candidates = [t for t in candidates if t.started_at <= when]
        if candidates:
            touches[message_id] = min(candidates, key=lambda t: (t.started_at, t.key))
    return touches


# --- Incremental: one stored batch ----------------------------------------------------------


def aggregates_apply(events: list) -> None:
    """Add what these stored events change to the daily tables. ``events`` are those of
    pending batches (``ecrm.aggregates_pending.stored_events``: with their ids), every
    batch stored before them already counted: a session with no progress row has not been
    counted yet, so these are its first events. Two reads (the batches' sessions and their
    progress rows) and three upserts, plus first touches when orders came and the stored
    history of sessions whose events came out of time order."""
    keys = {e.session_id for e in events if e.session_id}
    upto: dict[str, int] = {}
    for e in events:
        if e.session_id:
            upto[e.session_id] = max(upto.get(e.session_id, 0), e.pk)
    sessions = {row[0]: Touch.of(row) for row in _rows_having(Session, "key", keys, SESSION_COLUMNS)}
    stored = {row[0]: State.of(row[1:]) for row in _rows_having(SessionProgress, "session_key", set(sessions), (
        "session_key", "reached", "reached_at", "seen_until", "viewed", "added", "converted"))}
    steps, first_time = defaultdict(list), {}
    for e in events:
        if e.session_id in sessions and e.event in FUNNEL_EVENTS:
            event = _funnel_event(e.timestamp, e.event, e.properties)
            steps[e.session_id].append(event)
            pair = (e.session_id, e.event, event[2])
            first_time[pair] = min(first_time.get(pair, e.timestamp), e.timestamp)
    # Events earlier than some already counted: the session is replayed from its stored
    # events, up to the last of these (later batches' events wait for their turn).
    replay = {key for key, state in stored.items() if not state.later(steps[key])}
    history = _histories(replay, upto) if replay else {}
    tally = Tally()
    for key in sorted(sessions):
        touch = sessions[key]
        if key in stored:
            before = stored[key]
        else:
            before = State()
            tally.session(touch)
        after = State().advanced([event[:3] for event in history.get(key, [])]) if key in replay \
            else before.advanced(steps[key])
        if after.converted and not before.converted:
            tally.session(touch, converted=True)
        for name, products in ((VIEW, after.viewed - before.viewed), (ADD, after.added - before.added)):
            for product_id in products:
                tally.product(local_day(first_time.get((key, name, product_id), touch.started_at)), product_id, name)
        if key not in stored or after != before:
            tally.progress[key] = (touch, after)

    orders = [e for e in events if e.event == ORDER]
    if orders:
        firsts = first_touches([(e.message_id, e.anonymous_id, e.user_id, e.timestamp) for e in orders])
        for e in orders:
            tally.order(local_day(e.timestamp), revenue_of(e.properties or {}), sessions.get(e.session_id),
                        firsts.get(e.message_id), products_of(e.properties))
    tally.save()


def _progress_of(tally: Tally, sessions: dict[str, Touch]) -> None:
    """The rebuild's progress rows: each session's funnel events replayed from the start."""
    history = _histories(sessions)
    for key, touch in sessions.items():
        tally.progress[key] = (touch, State().advanced([event[:3] for event in history.get(key, [])]))


# --- Rebuild: a date range from scratch ---------------------------------------------------------


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in local time, as aware datetimes."""
    zone = timezone.get_current_timezone()
    return (datetime.combine(first, time.min, tzinfo=zone),
            datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone))


def aggregates_rebuild(first: date, last: date) -> dict[str, int]:
    """Recompute the daily tables for the days ``first``..``last`` from the raw sessions and
    events. Returns how many sessions, orders and product pairs were counted.

    Under the runner lock of ``ecrm.aggregates_pending`` and, on PostgreSQL, in one
    snapshot (repeatable read): the batches pending in that snapshot are counted first,
    then the days are recomputed from exactly the events those batches and the counted
    ones hold; batches the consumers store meanwhile (they do not wait) stay pending and
    are counted on top of the result, once."""
    from ecrm.aggregates_pending import pending_apply_all, runner_lock

    with runner_lock(wait=True):
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            pending_apply_all()
            return _rebuild(first, last)


def _rebuild(first: date, last: date) -> dict[str, int]:
    since, until = day_bounds(first, last)
    TrafficDay.objects.filter(day__range=(first, last)).delete()
    ProductDay.objects.filter(day__range=(first, last)).delete()
    SessionProgress.objects.filter(day__range=(first, last)).delete()
    tally, totals = Tally(), Counter()

    sessions = Session.objects.filter(started_at__gte=since, started_at__lt=until)
    batch = {}
    for row in sessions.values_list(*SESSION_COLUMNS, "converted").iterator(chunk_size=CHUNK):
        touch = Touch.of(row[:-1])
        tally.session(touch)
        if row[-1]:
            tally.session(touch, converted=True)
        batch[touch.key] = touch
        totals["sessions"] += 1
        if len(batch) >= CHUNK:
            _progress_of(tally, batch)
            batch = {}
    _progress_of(tally, batch)

    orders = Event.objects.filter(event=ORDER, timestamp__gte=since, timestamp__lt=until).order_by("timestamp", "id")
    chunk = []
    for row in orders.values_list("message_id", "anonymous_id", "user_id", "timestamp", "session_id",
                                  "properties").iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            totals["orders"] += _tally_orders(tally, chunk)
            chunk = []
    totals["orders"] += _tally_orders(tally, chunk)

    # A session counts for a product on the day of its first view (add): pairs whose first
    # time falls in the range. Sessions last minutes, so a day's margin finds their start.
    pairs = (Event.objects.filter(event__in=[VIEW, ADD], timestamp__gte=since - timedelta(days=1), timestamp__lt=until)
             .exclude(session_id="").values("session_id", "event", "properties__product_id")
             .annotate(first=Min("timestamp")).filter(first__gte=since))
    for row in pairs.iterator(chunk_size=10 * CHUNK):
        if row["properties__product_id"]:
            tally.product(local_day(row["first"]), str(row["properties__product_id"]), row["event"])
            totals["product_sessions"] += 1
    tally.save()
    return dict(totals)


def _tally_orders(tally: Tally, rows: list[tuple]) -> int:
    if not rows:
        return 0
    sessions = {row[0]: Touch.of(row) for row in Session.objects.filter(
        key__in={r[4] for r in rows if r[4]}).values_list(*SESSION_COLUMNS)}
    firsts = first_touches([(m, a, u, t) for m, a, u, t, _s, _p in rows])
    for message_id, _anon, _user, when, session_id, properties in rows:
        tally.order(local_day(when), revenue_of(properties or {}), sessions.get(session_id), firsts.get(message_id),
                    products_of(properties or {}))
    return len(rows)


# --- Reading the funnel back ------------------------------------------------------------------

FUNNEL_SPLITS = {"": None, "source": "source", "medium": "medium", "campaign": "campaign", "week": "day"}


def default_funnel(first: date, last: date, split: str = "") -> dict[str, list[dict]]:
    """The default funnel (``ecrm.funnels.funnel``'s rows) for the sessions that started in
    the days ``first``..``last``, split by source, medium, campaign or week, from
    ``SessionProgress`` instead of the sessions' events."""
    from django.db.models import Count

    from ecrm.funnels import funnel_rows

    column = FUNNEL_SPLITS[split]
    rows = SessionProgress.objects.filter(day__range=(first, last))
    rows = rows.values(column, "reached") if column else rows.values("reached")
    counts: dict[str, list[int]] = {}
    for row in rows.annotate(n=Count("id")).order_by():
        if split == "week":
            group = f"{row['day']:%G-W%V}"
        else:
            group = (row[column] or "(none)") if column else ""
        reached_by_step = counts.setdefault(group, [0] * len(DEFAULT_STEPS))
        for index in range(row["reached"]):
            reached_by_step[index] += row["n"]
    return funnel_rows(counts, DEFAULT_STEPS)
