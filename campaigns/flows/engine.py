"""``flows_run(now)``: what ``campaigns_tick`` and beat run for flows, as of a moment.

1. **Enrol.** Each active flow whose trigger was last asked more than
   CAMPAIGNS_FLOW_TRIGGER_SECONDS ago (claimed with one conditional UPDATE, so two ticks
   never ask twice) gets who is due; new (flow, person, window) enrolments are inserted with
   ``ON CONFLICT DO NOTHING`` under their unique constraint, after the flow's re-entry rule.
   The holdout is chosen there (``campaigns.holdout``): held-out customers go through the
   flow's waits and conditions but are sent nothing, so their orders can be compared.
2. **Advance.** Every active enrolment whose ``next_run_at`` has come, a batch at a time:
   exits first (for the whole batch, ``exits``), then its step, then the next step is
   scheduled. A batch is one short transaction holding its rows (``SELECT … FOR UPDATE SKIP
   LOCKED``, keeping only rows still active and due): a doubled tick or a second worker takes
   other rows or finds them moved, so no step runs twice. What a step sends is an outbox row
   under a unique key (``flow-step:<step>:<person>:<window>``), committed with the move.
   Vouchers, tags and webhooks run one enrolment at a time (``enrolment_step``), each
   re-locking its row and re-checking its step.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from campaigns.defaults import setting
from campaigns.flow_models import Flow, FlowEnrolment, FlowStep
from campaigns.flows import actions, graph
from campaigns.flows.exits import exit_reasons
from campaigns.holdout import holdout_apply, in_holdout
from campaigns.outbox import messages_enqueue_bulk
from campaigns.policy import retry_delay
from campaigns.triggers.base import trigger_get

logger = logging.getLogger(__name__)
BATCH = 200
PAGE_BATCHES = 25
CHUNK = 2000


def flows_run(*, now: datetime | None = None) -> dict:
    """Enrol who is due in every active flow, then advance every due enrolment."""
    now = now or timezone.now()
    enrolled = 0
    for flow in Flow.objects.filter(status=Flow.ACTIVE):
        if _trigger_claim(flow, now):
            enrolled += flow_enrol(flow, now=now)
    return {"enrolled": enrolled, "steps": enrolments_advance(now=now)}


def _trigger_claim(flow: Flow, now: datetime) -> bool:
    """True for the one tick that may ask this flow's trigger now."""
    every = timedelta(seconds=setting("CAMPAIGNS_FLOW_TRIGGER_SECONDS"))
    # (A moment before the last one: an operator catching up after moving time back.)
    due = Q(triggered_at=None) | Q(triggered_at__lte=now - every) | Q(triggered_at__gt=now)
    return bool(Flow.objects.filter(due, pk=flow.pk, status=Flow.ACTIVE).update(triggered_at=now))


def flow_enrol(flow: Flow, *, now: datetime) -> int:
    """Enrol the customers the flow's trigger finds due; returns how many were new."""
    steps = flow.steps_in_order()
    if not steps:
        return 0
    try:
        trigger = trigger_get(flow.trigger_kind)
        dues = {}
        for due in trigger.due(flow.trigger_settings, now):
            dues.setdefault((due.person_key, due.window[:120]), due)
    except Exception as exc:  # noqa: BLE001 - one broken trigger must not stop the other flows
        logger.exception("flow %s: its trigger %s failed", flow.pk, flow.trigger_kind)
        Flow.objects.filter(pk=flow.pk).update(last_error=f"{now:%Y-%m-%d %H:%M} the trigger failed: "
                                                          f"{type(exc).__name__}: {exc}"[:2000])
        return 0
    if flow.last_error:
        Flow.objects.filter(pk=flow.pk).update(last_error="")
    first, created = steps[0], 0
    items = list(dues.items())
    for start in range(0, len(items), CHUNK):
        created += _enrol_chunk(flow, first, dict(items[start:start + CHUNK]), now)
    return created


def _enrol_chunk(flow: Flow, first: FlowStep, dues: dict, now: datetime) -> int:
    persons = {person for person, _window in dues}
    taken = set(FlowEnrolment.objects.filter(flow=flow, person_key__in=persons).values_list("person_key", "window"))
    blocked = set()
    if flow.reentry == Flow.ONCE:
        blocked = {person for person, _window in taken}
    elif flow.reentry == Flow.WHEN_DONE:
        blocked = set(FlowEnrolment.objects.filter(flow=flow, person_key__in=persons, status=FlowEnrolment.ACTIVE)
                      .values_list("person_key", flat=True))
    if flow.reentry_days:
        recent = now - timedelta(days=flow.reentry_days)
        blocked |= {person for person, last in FlowEnrolment.objects.filter(flow=flow, person_key__in=persons)
                    .values("person_key").annotate(last=Max("enrolled_at")).values_list("person_key", "last")
                    if last > recent}
    rows, seen = [], set()
    for (person, window), due in dues.items():
        if (person, window) in taken or person in blocked or person in seen:
            continue
        seen.add(person)  # one new enrolment per person per run, whatever the trigger returned
        started = min(due.at or now, now)
        rows.append(FlowEnrolment(flow=flow, person_key=person, window=window, context=dict(due.context),
                                  started_at=started, enrolled_at=now, step=first,
                                  next_run_at=started + timedelta(hours=first.wait_hours),
                                  held_out=in_holdout(flow.campaign, person, flow.holdout_share)))
    if not rows:
        return 0
    with transaction.atomic():
        FlowEnrolment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        for row in rows:
            if row.held_out:
                holdout_apply(flow.campaign, row.person_key, flow.holdout_share, window=row.window, at=now)
    return len(rows)


def enrolments_advance(*, now: datetime, limit: int = 100_000) -> int:
    """Run every due step of every active flow (several in a row for an enrolment whose next
    step has no wait); returns how many steps ran. Rows another worker holds are left to it."""
    done, passed = 0, set()
    while done < limit:
        # A page of many batches per query: finding the due rows scans and sorts all of
        # them, so asking once per batch made a large flow quadratic.
        ids = list(FlowEnrolment.objects.filter(status=FlowEnrolment.ACTIVE, flow__status=Flow.ACTIVE,
                                                next_run_at__lte=now).exclude(pk__in=passed)
                   .order_by("next_run_at", "pk").values_list("pk", flat=True)[:BATCH * PAGE_BATCHES])
        if not ids:
            break
        moved_in_page = 0
        for start in range(0, len(ids), BATCH):
            moved = _advance_batch(ids[start:start + BATCH], now, passed)
            done, moved_in_page = done + moved, moved_in_page + moved
            if done >= limit:
                break
        if not moved_in_page and len(ids) < BATCH * PAGE_BATCHES:
            break
    return done


FAST = {FlowStep.WAIT, FlowStep.CONDITION, FlowStep.EMAIL, FlowStep.SMS}
MOVED_FIELDS = ["status", "exited_because", "finished_at", "step", "next_run_at", "history", "context", "attempts",
                "last_error"]


def _advance_batch(ids: list[int], now: datetime, passed: set) -> int:
    """One batch in one transaction: lock the rows no other worker holds, take out those an
    exit applies to, run waits, conditions and sends for the rest (the sends' outbox rows in
    one INSERT), move everybody on. Vouchers, tags and webhooks then run one
    enrolment at a time (``enrolment_step``), each in its own transaction."""
    from ecrm.models import Profile

    slow = []
    with transaction.atomic():
        batch = list(FlowEnrolment.objects.select_for_update(skip_locked=True, of=("self",))
                     .select_related("flow", "step")
                     .filter(pk__in=ids, status=FlowEnrolment.ACTIVE, next_run_at__lte=now, flow__status=Flow.ACTIVE))
        passed.update(set(ids) - {e.pk for e in batch})  # held by another worker, or moved already
        if not batch:
            return 0
        flows = {e.flow_id: e.flow for e in batch}
        transactional = {pk: _is_transactional(flow) for pk, flow in flows.items()}
        steps = {pk: flow.steps_in_order() for pk, flow in flows.items()}
        reasons = exit_reasons(batch, transactional=transactional)
        sending = {e.pk: e for e in batch if e.pk not in reasons and e.step
                   and e.step.kind in (FlowStep.EMAIL, FlowStep.SMS) and not e.held_out}
        try:
            with transaction.atomic():
                branches = actions.conditions_many([e for e in batch if e.pk not in reasons and e.step
                                                    and e.step.kind == FlowStep.CONDITION], now)
        except Exception:  # noqa: BLE001 - a broken rule: each runs alone below, where the error is recorded
            branches = {}
        profiles = {p.person_key: p for p in Profile.objects.filter(
            person_key__in={e.person_key for e in sending.values()}).select_related("user")}
        results, rows, moved = {}, {}, []
        for enrolment in batch:
            step = enrolment.step
            if enrolment.pk in reasons or step is None:
                _close(enrolment, now, status=FlowEnrolment.EXITED,
                       because=reasons.get(enrolment.pk) or "its step was removed from the flow")
                moved.append(enrolment)
            elif step.kind not in FAST:
                slow.append(enrolment)
            elif enrolment.pk in branches:
                results[enrolment.pk] = branches[enrolment.pk]
            elif step.kind == FlowStep.WAIT or (enrolment.held_out and step.kind in FlowStep.SENDS):
                results[enrolment.pk] = _run(enrolment, step, now, False)  # touches nothing: no savepoint
            elif enrolment.pk in sending:
                row = actions.message_row(enrolment, step, now, transactional=transactional[enrolment.flow_id],
                                          profile=profiles.get(enrolment.person_key))
                if isinstance(row, str):
                    results[enrolment.pk] = (row, True)
                else:
                    rows[enrolment.pk] = row
            else:
                try:
                    with transaction.atomic():
                        results[enrolment.pk] = _run(enrolment, step, now, transactional[enrolment.flow_id])
                except Exception:  # noqa: BLE001 - run alone below, where a failure is recorded on it
                    slow.append(enrolment)
        try:
            with transaction.atomic():
                created = messages_enqueue_bulk(list(rows.values()))
        except Exception:  # noqa: BLE001 - one bad row must not hold up the batch: each goes alone
            logger.exception("flow sends: the batch insert failed; sending one by one")
            created, slow = {}, slow + [sending[pk] for pk in rows]
            rows = {}
        for pk, row in rows.items():
            message_id, new = created[row["key"]]
            results[pk] = (actions.sent_outcome(sending[pk].step, message_id, new), True)
        for enrolment in batch:
            if enrolment.pk in results:
                outcome, branch = results[enrolment.pk]
                _note(enrolment, enrolment.step, now, outcome)
                _move_on(enrolment, _following_in(steps[enrolment.flow_id], enrolment.step, branch), now)
                moved.append(enrolment)
        _save_moved(moved)
    count = len(moved)
    for enrolment in slow:
        outcome = enrolment_step(enrolment.pk, enrolment.step_id, now=now,
                                 transactional=transactional[enrolment.flow_id])
        if outcome is None or outcome == "retry":
            passed.add(enrolment.pk)  # locked by another worker, moved already, or waiting to retry
        else:
            count += 1
    return count


MOVED_SQL_TYPES = {"status": "varchar", "exited_because": "varchar", "finished_at": "timestamptz",
                   "step": "bigint", "next_run_at": "timestamptz", "history": "jsonb", "context": "jsonb",
                   "attempts": "smallint", "last_error": "text"}


def _save_moved(moved: list[FlowEnrolment]) -> None:
    """Write every moved enrolment's fields in one ``UPDATE … FROM (VALUES …)`` statement.
    (Django's ``bulk_update`` writes a CASE per field and row, measured ten times slower for a
    batch of 200 with JSON fields; one UPDATE per row costs a round trip each.)"""
    import json

    from django.db import connection

    if not moved:
        return
    columns = [("step_id" if name == "step" else name) for name in MOVED_FIELDS]
    row = "(%s::bigint, " + ", ".join(f"%s::{MOVED_SQL_TYPES[name]}" for name in MOVED_FIELDS) + ")"
    params = []
    for enrolment in moved:
        params.append(enrolment.pk)
        for name in MOVED_FIELDS:
            value = enrolment.step_id if name == "step" else getattr(enrolment, name)
            params.append(json.dumps(value, cls=DjangoJSONEncoder) if name in ("history", "context") else value)
    table = FlowEnrolment._meta.db_table
    assignments = ", ".join(f'"{column}" = v."{column}"' for column in columns)
    names = ", ".join(f'"{column}"' for column in ["id", *columns])
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" AS e SET {assignments} FROM (VALUES {", ".join([row] * len(moved))}) '
                       f'AS v({names}) WHERE e.id = v.id', params)


def _move_on(enrolment: FlowEnrolment, following: FlowStep | None, now: datetime) -> None:
    """To the following step (its wait counted from now), or completed at the end."""
    if following is None:
        _close(enrolment, now, status=FlowEnrolment.COMPLETED, because="")
        return
    enrolment.step, enrolment.next_run_at = following, now + timedelta(hours=following.wait_hours)
    enrolment.attempts, enrolment.last_error = 0, ""


def _is_transactional(flow: Flow) -> bool:
    try:
        return trigger_get(flow.trigger_kind).transactional
    except LookupError:
        return False


def _note(enrolment: FlowEnrolment, step: FlowStep | None, now: datetime, outcome: str) -> None:
    enrolment.history = [*enrolment.history, {
        "step": step.pk if step else None, "kind": step.kind if step else "", "at": now.isoformat(),
        "outcome": outcome[:300]}]


def enrolment_step(pk: int, step_id: int | None, *, now: datetime, exit_reason: str | None = None,
                   transactional: bool = False) -> str | None:
    """Run the enrolment's due step (or take it out), and schedule the next; what happened,
    or None when it was not this worker's to do (locked, already moved, not due)."""
    with transaction.atomic():
        enrolment = (FlowEnrolment.objects.select_for_update(skip_locked=True, of=("self",))
                     .select_related("flow", "step")
                     .filter(pk=pk, status=FlowEnrolment.ACTIVE, next_run_at__lte=now, step_id=step_id).first())
        if enrolment is None or enrolment.flow.status != Flow.ACTIVE:
            return None
        step = enrolment.step
        if exit_reason:
            return _finish(enrolment, now, status=FlowEnrolment.EXITED, because=exit_reason)
        if step is None:
            return _finish(enrolment, now, status=FlowEnrolment.EXITED, because="its step was removed from the flow")
        try:
            with transaction.atomic():  # a failed action leaves nothing half done
                outcome, branch = _run(enrolment, step, now, transactional)
        except actions.StepFailed as exc:
            return _failed(enrolment, step, now, str(exc))
        except Exception as exc:  # noqa: BLE001 - recorded on the enrolment and retried; other customers go on
            logger.exception("flow enrolment %s: step %s failed", enrolment.pk, step.pk)
            return _failed(enrolment, step, now, f"{type(exc).__name__}: {exc}")
        _note(enrolment, step, now, outcome)
        _move_on(enrolment, following_step(enrolment.flow, step, branch), now)
        enrolment.save(update_fields=MOVED_FIELDS)
        return outcome


def _run(enrolment: FlowEnrolment, step: FlowStep, now: datetime, transactional: bool) -> tuple[str, bool]:
    if step.kind == FlowStep.WAIT:
        return "waited", True
    if step.kind == FlowStep.CONDITION:
        return actions.condition(enrolment, step, now)
    if enrolment.held_out:
        return f"held out: no {step.get_kind_display().lower()}", True
    if step.kind in (FlowStep.EMAIL, FlowStep.SMS):
        return actions.send(enrolment, step, now, transactional=transactional)
    if step.kind == FlowStep.VOUCHER:
        return actions.voucher(enrolment, step, now)
    if step.kind == FlowStep.TAG:
        return actions.tag(enrolment, step, now)
    if step.kind == FlowStep.WEBHOOK:
        return actions.webhook(enrolment, step, now)
    raise actions.StepFailed(f"unknown kind of step {step.kind!r}")


def following_step(flow: Flow, step: FlowStep, branch: bool) -> FlowStep | None:
    """The step after ``step`` on this branch, or None at the end of the flow."""
    return _following_in(flow.steps_in_order(), step, branch)


def _following_in(steps: list[FlowStep], step: FlowStep, branch: bool) -> FlowStep | None:
    shape = [{"id": s.pk, "kind": s.kind, "next": s.next_target, "else": s.else_target} for s in steps]
    try:
        target = graph.target_of(shape, step.pk, branch)
    except LookupError:
        return None
    return next((s for s in steps if str(s.pk) == target), None)


def _failed(enrolment: FlowEnrolment, step: FlowStep, now: datetime, error: str) -> str:
    """Retry the step later with the outbox's backoff; after the last attempt, go on without it."""
    enrolment.attempts += 1
    enrolment.last_error = f"{now:%Y-%m-%d %H:%M} {step.get_kind_display()}: {error}"[:2000]
    if enrolment.attempts < setting("CAMPAIGNS_MAX_ATTEMPTS"):
        delay = retry_delay(enrolment.attempts, base=setting("CAMPAIGNS_RETRY_BASE_SECONDS"),
                            maximum=setting("CAMPAIGNS_RETRY_MAX_SECONDS"))
        enrolment.next_run_at = now + delay
        _note(enrolment, step, now, f"failed (attempt {enrolment.attempts}), retry at "
                                    f"{enrolment.next_run_at:%Y-%m-%d %H:%M:%S}: {error}")
        enrolment.save(update_fields=["attempts", "last_error", "next_run_at", "history"])
        return "retry"
    _note(enrolment, step, now, f"gave up after {enrolment.attempts} attempts: {error}")
    following = following_step(enrolment.flow, step, True)
    if following is None:
        return _finish(enrolment, now, status=FlowEnrolment.COMPLETED, because="", keep_error=True)
    enrolment.step, enrolment.next_run_at, enrolment.attempts = following, now + timedelta(hours=following.wait_hours), 0
    enrolment.save(update_fields=["step", "next_run_at", "attempts", "last_error", "history"])
    return "gave up"


def _close(enrolment: FlowEnrolment, now: datetime, *, status: str, because: str) -> None:
    enrolment.status, enrolment.exited_because, enrolment.finished_at = status, because[:255], now
    enrolment.step, enrolment.next_run_at = None, None
    if because:
        _note(enrolment, None, now, f"exited: {because}")


def _finish(enrolment: FlowEnrolment, now: datetime, *, status: str, because: str, keep_error: bool = False) -> str:
    _close(enrolment, now, status=status, because=because)
    if not keep_error:
        enrolment.attempts, enrolment.last_error = 0, ""
    enrolment.save(update_fields=MOVED_FIELDS)
    return f"exited: {because}" if because else "completed"
