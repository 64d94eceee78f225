"""What a flow step does for one enrolment. Each action returns ``(outcome, branch)``: the
words for the enrolment's history and, for a condition, which way it went. A failure the
engine should retry raises ``StepFailed``; anything a retry cannot fix (no address, no
account) is an outcome, and the flow goes on.

Called by the engine inside the enrolment's row lock and transaction: the outbox row of a
send commits with the enrolment's move to its next step, or neither does.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder

from campaigns.defaults import setting
from campaigns.models import Message


class StepFailed(Exception):
    """The step could not be done now (a webhook that timed out or failed): try again later."""


def step_key(step, enrolment) -> str:
    """The outbox key of what this step sends this customer for this firing (one, ever)."""
    key = f"flow-step:{step.pk}:{enrolment.person_key}:{enrolment.window}"
    if len(key) > 255:  # very long person keys and windows: keep it unique, and short enough
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        key = f"{key[:200]}:{digest}"
    return key


def _profile(enrolment):
    from ecrm.models import Profile

    return Profile.objects.filter(person_key=enrolment.person_key).select_related("user").first()


def _message_context(enrolment, step) -> dict:
    return {**enrolment.context, "flow_id": enrolment.flow_id, "step_id": step.pk, "enrolment_id": enrolment.pk}


def condition(enrolment, step, now: datetime, *, profile=None):
    """Does the condition hold for the customer now? An ecrm rule or a segment's membership."""
    from ecrm.models import Profile, SegmentMembership
    from ecrm.segment_rules import compile_rule

    config = step.config
    if config.get("segment_id") not in (None, ""):
        holds = SegmentMembership.objects.filter(segment_id=int(config["segment_id"]), left_at=None,
                                                 profile__person_key=enrolment.person_key).exists()
        return ("in the segment" if holds else "not in the segment"), holds
    holds = Profile.objects.filter(person_key=enrolment.person_key).filter(
        compile_rule(config["rule"], now=now)).exists()
    return ("the condition holds" if holds else "the condition does not hold"), holds


def conditions_many(enrolments: list, now: datetime) -> dict[int, tuple[str, bool]]:
    """``condition`` for a batch of enrolments: one query per condition step in the batch,
    whatever its size. enrolment pk -> (outcome, branch), the same words as ``condition``."""
    from collections import defaultdict

    from ecrm.models import Profile, SegmentMembership
    from ecrm.segment_rules import compile_rule

    by_step, results = defaultdict(list), {}
    for enrolment in enrolments:
        by_step[enrolment.step_id].append(enrolment)
    for members in by_step.values():
        config, people = members[0].step.config, {e.person_key for e in members}
        if config.get("segment_id") not in (None, ""):
            holding = set(SegmentMembership.objects.filter(segment_id=int(config["segment_id"]), left_at=None,
                                                           profile__person_key__in=people)
                          .values_list("profile__person_key", flat=True))
            words = ("in the segment", "not in the segment")
        else:
            holding = set(Profile.objects.filter(person_key__in=people).filter(compile_rule(config["rule"], now=now))
                          .values_list("person_key", flat=True))
            words = ("the condition holds", "the condition does not hold")
        for enrolment in members:
            holds = enrolment.person_key in holding
            results[enrolment.pk] = (words[0] if holds else words[1]), holds
    return results


def message_row(enrolment, step, now: datetime, *, transactional: bool, profile) -> dict | str:
    """The outbox row (``message_enqueue``'s fields) a send step makes for this customer, or
    why it sends nothing (no address or number: an outcome, not a failure)."""
    flow = enrolment.flow
    row = dict(key=step_key(step, enrolment), source_kind="flow-step", source_id=str(step.pk), campaign=flow.campaign,
               kind=Message.TRANSACTIONAL if transactional else Message.MARKETING,
               topic="" if transactional else flow.topic, person_key=enrolment.person_key,
               user=profile.user if profile else None, context=_message_context(enrolment, step), due_at=now)
    if step.kind == "sms":
        phone = (profile.phone if profile else "") or ""
        if not phone:
            return "not sent: no phone number for this customer"
        row.update(channel=Message.SMS, to_phone=phone, template="",
                   context={**row["context"], "sms_text": step.config["text"]})
    else:
        address = (profile.email if profile else "") or ""
        if not address:
            return "not sent: no e-mail address for this customer"
        row.update(to_email=address, template=step.config["template"])
    return row


def sent_outcome(step, message_id: int, created: bool) -> str:
    what = "SMS" if step.kind == "sms" else "e-mail"
    return f"{what} queued (message {message_id})" if created else f"{what} already queued (message {message_id})"


def send(enrolment, step, now: datetime, *, transactional: bool):
    """An e-mail or SMS step for one enrolment (the engine's batches do many at once)."""
    from campaigns.outbox import message_enqueue

    row = message_row(enrolment, step, now, transactional=transactional, profile=_profile(enrolment))
    if isinstance(row, str):
        return row, True
    message, created = message_enqueue(**row)
    return sent_outcome(step, message.pk, created), True


def voucher(enrolment, step, now: datetime):
    from campaigns.flows.vouchers import personal_voucher_create

    profile = _profile(enrolment)
    if profile is None or profile.user is None:
        return "no voucher: personal vouchers need a customer account", True
    personal = personal_voucher_create(key=step_key(step, enrolment), flow=enrolment.flow, user=profile.user,
                                       person_key=enrolment.person_key, config=step.config, now=now)
    enrolment.context = {**enrolment.context, "voucher_id": personal.voucher_id}
    return f"voucher {personal.voucher.code} created, valid until {personal.voucher.end_datetime:%Y-%m-%d}", True


def tag(enrolment, step, now: datetime):
    from ecrm.desk import tags_set

    profile = _profile(enrolment)
    if profile is None:
        return "no tag: no customer profile", True
    names = set(profile.tags.names())
    add, remove = (step.config.get("add") or "").strip(), (step.config.get("remove") or "").strip()
    wanted = (names | {add}) if add else {n for n in names if n.lower() != remove.lower()}
    if wanted != names:
        tags_set(profile=profile, staff=None, tags=sorted(wanted))
    return (f"tag {add!r} added" if add else f"tag {remove!r} removed"), True


def webhook(enrolment, step, now: datetime):
    """POST the enrolment as JSON. Receivers can drop repeats by the ``Idempotency-Key``
    header: a crash after their reply and before our commit sends it once more."""
    profile = _profile(enrolment)
    body = json.dumps({
        "flow": {"id": enrolment.flow_id, "name": enrolment.flow.name}, "step": step.pk,
        "person_key": enrolment.person_key, "window": enrolment.window, "context": enrolment.context,
        "email": profile.email if profile else "", "first_name": profile.first_name if profile else "",
        "at": now.isoformat(), "held_out": enrolment.held_out}, cls=DjangoJSONEncoder).encode()
    request = urllib.request.Request(step.config["url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "ecrm-campaigns-flows/1",
        "Idempotency-Key": step_key(step, enrolment)})
    timeout = setting("CAMPAIGNS_WEBHOOK_TIMEOUT_SECONDS")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked
            status = response.status
    except urllib.error.HTTPError as exc:
        raise StepFailed(f"the webhook answered HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise StepFailed(f"the webhook did not answer within {timeout:g} seconds") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise StepFailed(f"the webhook did not answer within {timeout:g} seconds") from None
        raise StepFailed(f"the webhook could not be reached: {reason}") from None
    except OSError as exc:
        raise StepFailed(f"the webhook could not be reached: {exc}") from None
    return f"webhook answered HTTP {status}", True
