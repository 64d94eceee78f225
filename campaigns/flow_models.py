"""Flows: what a trigger starts for each customer it finds, step by step.

A ``Flow`` names a trigger kind (``campaigns.triggers``) with its settings, and an ordered
list of ``FlowStep``s; each step waits (``wait_hours``, counted from the previous step) and
then does one thing: nothing more (a pure wait), branch on a condition, send an e-mail or
an SMS, create a personal voucher, add or remove a tag, or call a webhook. Where a step
goes next is its ``next_target`` (and a condition's ``else_target`` when it does not hold):
"" the following step, "end" the end of the flow, or another step's id.

A ``FlowEnrolment`` is one customer in one flow for one firing of its trigger (``window``):
which step is next and when, the history of the steps done and, at the end, why they left.
``campaigns.flows.engine`` moves enrolments along; these models hold no workflow.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from oscar.core.loading import get_class

CountCondition = get_class("offer.conditions", "CountCondition")

__all__ = ["Flow", "FlowStep", "FlowEnrolment", "PersonalVoucher", "PersonalVoucherCondition"]


def _holdout_default() -> float:
    from campaigns.defaults import setting

    return setting("CAMPAIGNS_HOLDOUT_DEFAULT")


class Flow(models.Model):
    DRAFT, ACTIVE, PAUSED = "draft", "active", "paused"
    STATUSES = [(DRAFT, "Draft"), (ACTIVE, "Active"), (PAUSED, "Paused")]
    # Who may enter again: each new firing of the trigger (its window: a new basket, next
    # year's birthday), only when not already in the flow, or once ever.
    EACH_FIRING, WHEN_DONE, ONCE = "each", "when_done", "once"
    REENTRY = [(EACH_FIRING, "Each time the trigger fires again (a new basket, order, year...)"),
               (WHEN_DONE, "Again only once they have left the flow"),
               (ONCE, "Only once, ever")]
    EXITS = [("order_placed", "They place an order"),
             ("unsubscribed", "They withdraw consent for the flow's topic"),
             ("left_segment", "They leave the segment that started the flow"),
             ("basket_emptied", "Their basket is emptied (or merged into another)"),
             ("product_added", "They add the product to their basket")]

    name = models.CharField(max_length=120)
    trigger_kind = models.CharField(max_length=50, help_text="a registered trigger kind (campaigns.triggers)")
    trigger_settings = models.JSONField(default=dict, blank=True, help_text="the trigger's parameters")
    status = models.CharField(max_length=10, choices=STATUSES, default=DRAFT)
    topic = models.CharField(max_length=50, blank=True, help_text="the consent topic its marketing is sent under")
    holdout_share = models.FloatField(default=_holdout_default,
                                      help_text="share of customers (0-1) kept out to measure the flow's lift")
    exits = models.JSONField(default=list, blank=True, help_text="conditions that take a customer out at once")
    reentry = models.CharField(max_length=10, choices=REENTRY, default=EACH_FIRING)
    reentry_days = models.PositiveIntegerField(default=0, help_text="and not within this many days of the last "
                                                                    "entry (0: no limit)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True, help_text="the trigger last asked who is due")
    last_error = models.TextField(blank=True, help_text="why the trigger last failed, if it did")

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def campaign(self) -> str:
        """What its messages and holdout are counted under (Message.campaign)."""
        return f"flow:{self.pk}"

    def steps_in_order(self) -> list["FlowStep"]:
        return list(self.steps.order_by("position", "pk"))


class FlowStep(models.Model):
    WAIT, CONDITION, EMAIL, SMS, VOUCHER, TAG, WEBHOOK = "wait", "condition", "email", "sms", "voucher", "tag", "webhook"
    KINDS = [(WAIT, "Wait only"), (CONDITION, "Condition (branch)"), (EMAIL, "Send e-mail"), (SMS, "Send SMS"),
             (VOUCHER, "Create a personal voucher"), (TAG, "Add or remove a tag"), (WEBHOOK, "Call a webhook")]
    SENDS = {EMAIL, SMS, VOUCHER, TAG, WEBHOOK}  # what a held-out customer does not get
    NEXT, END = "", "end"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=KINDS)
    wait_hours = models.FloatField(default=0, help_text="wait before this step, from the previous one "
                                                        "(for the first: from when the trigger fired)")
    config = models.JSONField(default=dict, blank=True, help_text="what the step does; see docs/campaigns.md")
    next_target = models.CharField(max_length=20, blank=True, default=NEXT,
                                   help_text='"" the following step, "end", or a step id (a condition: if it holds)')
    else_target = models.CharField(max_length=20, blank=True, default=END,
                                   help_text="a condition that does not hold goes here")

    class Meta:
        ordering = ["flow", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (step {self.pk})"


class FlowEnrolment(models.Model):
    ACTIVE, COMPLETED, EXITED = "active", "completed", "exited"
    STATUSES = [(ACTIVE, "In the flow"), (COMPLETED, "Completed"), (EXITED, "Exited")]

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="enrolments")
    person_key = models.CharField(max_length=254, help_text="the customer (ecrm's person key)")
    window = models.CharField(max_length=120, blank=True, help_text="the trigger's firing (Due.window)")
    context = models.JSONField(default=dict, blank=True, help_text="ids from the trigger, and a voucher's id")
    started_at = models.DateTimeField(help_text="when the trigger's condition became true (Due.at), else entry")
    enrolled_at = models.DateTimeField(default=timezone.now)
    step = models.ForeignKey(FlowStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="the step to run next")
    next_run_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=ACTIVE)
    held_out = models.BooleanField(default=False, help_text="in the flow's holdout: waits, but is sent nothing")
    exited_because = models.CharField(max_length=255, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="failed attempts of the current step")
    last_error = models.TextField(blank=True)
    history = models.JSONField(default=list, blank=True, help_text="the steps done: step, what, when, outcome")

    class Meta:
        ordering = ["-enrolled_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["flow", "person_key", "window"], name="campaigns_enrol_once")]
        indexes = [models.Index(fields=["status", "next_run_at"], name="campaigns_enrol_due"),
                   models.Index(fields=["person_key"], name="campaigns_enrol_person")]

    def __str__(self) -> str:
        return f"{self.person_key} in {self.flow} ({self.status})"

    @property
    def status_label(self) -> str:
        return ("Held out, " if self.held_out else "") + self.get_status_display().lower()


class PersonalVoucher(models.Model):
    """An Oscar voucher a flow created for one customer: single use, with an expiry, and
    usable only in that customer's basket (``PersonalVoucherCondition``)."""

    key = models.CharField(max_length=255, unique=True, help_text="flow-step:<step>:<person>:<window>")
    voucher = models.OneToOneField("voucher.Voucher", on_delete=models.CASCADE, related_name="personal")
    person_key = models.CharField(max_length=254, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    flow = models.ForeignKey(Flow, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.voucher.code} for {self.person_key}"


class PersonalVoucherCondition(CountCondition):
    """Oscar's "basket includes N items from the range", and the basket is the voucher's
    customer's: another shopper who types the code gets no discount. A custom condition
    (``proxy_class``) is Oscar's own way to add rules to offers."""

    class Meta:
        proxy = True
        app_label = "campaigns"

    @property
    def name(self):
        return f"{super().name}, for the customer the voucher was made for"

    @property
    def description(self):
        return self.name

    def is_satisfied(self, offer, basket):
        owner = getattr(basket, "owner_id", None)
        if owner is None:
            return False
        voucher = getattr(offer, "_voucher", None)  # set by Oscar's Applicator for basket vouchers
        vouchers = [voucher] if voucher else list(offer.vouchers.all())
        if not PersonalVoucher.objects.filter(voucher__in=[v for v in vouchers if v], user_id=owner).exists():
            return False
        return super().is_satisfied(offer, basket)

    def is_partially_satisfied(self, offer, basket):
        return False
