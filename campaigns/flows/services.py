"""Writes on flows from the dashboard (and scripts): create one from a trigger's ready-made
template, edit its steps, activate and pause it. Activation refuses a flow with problems
(``validation.flow_problems``), so only a sound flow ever runs."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.defaults import setting
from campaigns.flow_models import Flow, FlowStep
from campaigns.flows.validation import flow_problems
from campaigns.triggers.base import Trigger


class FlowError(ValueError):
    """What the marketer must change first; the text says what."""


TEMPLATE_KEYS = {"email": ("template",), "sms": ("text",), "voucher": ("percent", "amount", "valid_days", "min_items"),
                 "tag": ("add", "remove"), "webhook": ("url",), "condition": ("rule", "segment_id"), "wait": ()}


def step_from_template(entry: dict) -> tuple[str, float, dict]:
    """(kind, wait_hours, config) of one step of a trigger's ``flow_template``."""
    kind = entry.get("action") or entry.get("kind") or "wait"
    if kind not in TEMPLATE_KEYS:
        raise FlowError(f"the template has a step of unknown kind {kind!r}")
    config = {key: entry[key] for key in TEMPLATE_KEYS[kind] if key in entry}
    return kind, float(entry.get("wait_hours") or 0), config


@transaction.atomic
def flow_create_from_trigger(*, trigger: Trigger, user=None, name: str = "") -> Flow:
    """A draft flow with the trigger's default settings, topic, exits and ready-made steps.
    A setting with no default (the segment of "joined a segment") is left empty: the draft's
    page asks for it, and the flow cannot be activated without it."""
    try:
        settings = trigger.settings_clean({})
    except ValidationError:
        settings = {p.name: p.default for p in trigger.params}
    flow = Flow.objects.create(
        name=(name or trigger.label)[:120], trigger_kind=trigger.kind, trigger_settings=settings,
        topic="" if trigger.transactional else trigger.topic, exits=list(trigger.exits), created_by=user,
        holdout_share=0 if trigger.transactional else setting("CAMPAIGNS_HOLDOUT_DEFAULT"))
    for position, entry in enumerate(trigger.flow_template, start=1):
        kind, wait_hours, config = step_from_template(entry)
        FlowStep.objects.create(flow=flow, position=position, kind=kind, wait_hours=wait_hours, config=config)
    return flow


def _editable(flow: Flow) -> None:
    if flow.status == Flow.ACTIVE:
        raise FlowError("Pause the flow before changing it: customers in it are moving through its steps.")


@transaction.atomic
def step_save(*, flow: Flow, step: FlowStep | None, kind: str, wait_hours: float, config: dict,
              next_target: str = "", else_target: str = "end") -> FlowStep:
    _editable(flow)
    if step is None:
        last = flow.steps.aggregate(last=Max("position"))["last"] or 0
        step = FlowStep(flow=flow, position=last + 1)
    step.kind, step.wait_hours, step.config = kind, wait_hours, config
    step.next_target, step.else_target = next_target, else_target if kind == FlowStep.CONDITION else FlowStep.END
    step.save()
    Flow.objects.filter(pk=flow.pk).update(updated_at=timezone.now())
    return step


@transaction.atomic
def step_delete(*, flow: Flow, step: FlowStep) -> None:
    """Remove a step; branches that went to it go to the following step instead, and so do
    customers waiting at it (or they complete the flow, if it was the last)."""
    from campaigns.flow_models import FlowEnrolment
    from campaigns.flows.engine import following_step

    _editable(flow)
    following = following_step(flow, step, True)
    waiting = FlowEnrolment.objects.filter(step=step, status=FlowEnrolment.ACTIVE)
    if following is not None:
        waiting.update(step=following)
    else:
        waiting.update(step=None, status=FlowEnrolment.COMPLETED, finished_at=timezone.now(), next_run_at=None)
    target = str(step.pk)
    flow.steps.filter(next_target=target).update(next_target=FlowStep.NEXT)
    flow.steps.filter(else_target=target).update(else_target=FlowStep.NEXT)
    step.delete()
    _renumber(flow)


@transaction.atomic
def step_move(*, flow: Flow, step: FlowStep, offset: int) -> None:
    _editable(flow)
    steps = flow.steps_in_order()
    index = steps.index(step)
    other = index + offset
    if 0 <= other < len(steps):
        steps[index], steps[other] = steps[other], steps[index]
    for position, item in enumerate(steps, start=1):
        if item.position != position:
            FlowStep.objects.filter(pk=item.pk).update(position=position)


def _renumber(flow: Flow) -> None:
    for position, item in enumerate(flow.steps_in_order(), start=1):
        if item.position != position:
            FlowStep.objects.filter(pk=item.pk).update(position=position)


@transaction.atomic
def flow_activate(*, flow: Flow, now=None) -> Flow:
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    problems = flow_problems(flow)
    if problems:
        raise FlowError("The flow cannot be activated: " + " ".join(problems))
    flow.status, flow.activated_at = Flow.ACTIVE, now or timezone.now()
    flow.save(update_fields=["status", "activated_at", "updated_at"])
    return flow


@transaction.atomic
def flow_pause(*, flow: Flow) -> Flow:
    """Customers in it stay where they are; their due steps run when it is activated again."""
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    if flow.status == Flow.ACTIVE:
        flow.status = Flow.PAUSED
        flow.save(update_fields=["status", "updated_at"])
    return flow


@transaction.atomic
def flow_delete(*, flow: Flow) -> None:
    """Delete a flow nobody has entered yet; one with customers is paused instead, so its
    results and who-was-where stay."""
    _editable(flow)
    if flow.enrolments.exists():
        raise FlowError("Customers have been through this flow: pause it instead, to keep its results.")
    flow.delete()
