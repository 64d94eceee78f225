"""Campaigns → Flows in Oscar's dashboard: the list, "create from a trigger's template", a
flow's settings and steps (with what keeps it from being activated), activate and pause,
and who is where in it. Marketing manages flows; Support may look."""

from __future__ import annotations

from django.contrib import messages
from django.db import connection
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import ListView

from campaigns.dashboard.flow_forms import EnrolmentFilter, FlowSettingsForm, StepForm
from campaigns.flow_models import Flow, FlowEnrolment, FlowStep
from campaigns.flows.services import (FlowError, flow_activate, flow_create_from_trigger, flow_delete, flow_pause,
                                      step_delete, step_move, step_save)
from campaigns.flows.validation import flow_problems, step_label
from campaigns.models import Message
from campaigns.triggers.base import trigger_get, triggers_all
from tracking.dashboard.views import StaffPermission


def _trigger(flow: Flow):
    try:
        return trigger_get(flow.trigger_kind)
    except LookupError:
        return None



class FlowListView(StaffPermission, ListView):
    permission_required = "campaigns.view_flow"
    template_name = "campaigns/flows/flow_list.html"
    context_object_name = "flows"

    def get_queryset(self):
        return Flow.objects.annotate(
            in_flow=Count("enrolments", filter=Q(enrolments__status=FlowEnrolment.ACTIVE)),
            completed=Count("enrolments", filter=Q(enrolments__status=FlowEnrolment.COMPLETED)),
            exited=Count("enrolments", filter=Q(enrolments__status=FlowEnrolment.EXITED)),
            held_out=Count("enrolments", filter=Q(enrolments__held_out=True)))

    def get_context_data(self, **kwargs):
        labels = {t.kind: t.label for t in triggers_all()}
        context = super().get_context_data(**kwargs)
        for flow in context["flows"]:
            flow.trigger_label = labels.get(flow.trigger_kind, f"{flow.trigger_kind} (not installed)")
        return context


class FlowCreateView(StaffPermission, View):
    """Every registered trigger, with its ready-made flow: one click makes a draft of it."""

    permission_required = "campaigns.add_flow"

    def get(self, request):
        return render(request, "campaigns/flows/flow_create.html", {"triggers": triggers_all()})

    def post(self, request):
        try:
            trigger = trigger_get(request.POST.get("trigger", ""))
        except LookupError:
            messages.error(request, "Choose one of the triggers listed.")
            return redirect("campaigns-dashboard:flow-create")
        try:
            flow = flow_create_from_trigger(trigger=trigger, user=request.user,
                                            name=request.POST.get("name", "").strip())
        except FlowError as exc:
            messages.error(request, f"The {trigger.label} template cannot be used: {exc}")
            return redirect("campaigns-dashboard:flow-create")
        messages.success(request, f"Draft flow “{flow.name}” created from the {trigger.label} template: "
                                  "check its steps and templates, then activate it.")
        return redirect("campaigns-dashboard:flow", pk=flow.pk)


def step_stats_attach(flow: Flow, steps: list[FlowStep]) -> None:
    """Each step's figures for the editor, in four grouped queries whatever the number of
    steps: customers waiting at it, customers who went through it (its history entries), and
    for a send step its messages sent, opened and clicked (not by link scanners)."""
    waiting = dict(flow.enrolments.filter(status=FlowEnrolment.ACTIVE).values_list("step_id")
                   .annotate(n=Count("pk")))
    with connection.cursor() as cursor:
        cursor.execute("SELECT (h->>'step')::bigint, count(*) FROM campaigns_flowenrolment e, "
                       "jsonb_array_elements(e.history) h WHERE e.flow_id = %s AND h->>'step' IS NOT NULL "
                       "AND h->>'outcome' NOT LIKE 'failed (attempt%%' GROUP BY 1", [flow.pk])
        done = dict(cursor.fetchall())
    messages_of = Message.objects.filter(source_kind="flow-step", source_id__in=[str(s.pk) for s in steps])
    sent = dict(messages_of.filter(status=Message.SENT).values_list("source_id").annotate(n=Count("pk")))
    opened = dict(messages_of.filter(opened__isnull=False).values_list("source_id").annotate(n=Count("pk")))
    clicked = dict(messages_of.filter(clicks__automated=False).values_list("source_id")
                   .annotate(n=Count("pk", distinct=True)))
    for step in steps:
        key = str(step.pk)
        step.waiting, step.done = waiting.get(step.pk, 0), done.get(step.pk, 0)
        step.sent, step.opened, step.clicked = sent.get(key, 0), opened.get(key, 0), clicked.get(key, 0)
        step.open_rate = step.opened / step.sent if step.sent else None
        step.click_rate = step.clicked / step.sent if step.sent else None


class FlowDetailView(StaffPermission, View):
    """The flow's settings and steps; saving the settings needs campaigns.change_flow."""

    permission_required = "campaigns.view_flow"

    def get(self, request, pk, form=None):
        flow = get_object_or_404(Flow, pk=pk)
        trigger = _trigger(flow)
        steps = flow.steps_in_order()
        numbers = {str(s.pk): n for n, s in enumerate(steps, start=1)}
        for number, step in enumerate(steps, start=1):
            step.number = number
            step.next_label = _target_label(step.next_target, number, numbers, len(steps))
            step.else_label = _target_label(step.else_target, number, numbers, len(steps)) \
                if step.kind == FlowStep.CONDITION else ""
        step_stats_attach(flow, steps)
        counts = dict(flow.enrolments.values_list("status").annotate(n=Count("pk")))
        return render(request, "campaigns/flows/flow_detail.html", {
            "flow": flow, "trigger": trigger, "steps": steps,
            "form": form or FlowSettingsForm(instance=flow, trigger=trigger),
            "problems": flow_problems(flow), "editable": flow.status != Flow.ACTIVE,
            "counts": [(label, counts.get(status, 0), status) for status, label in FlowEnrolment.STATUSES],
            "held_out": flow.enrolments.filter(held_out=True).count(),
            "sent": Message.objects.filter(campaign=flow.campaign, status=Message.SENT).count()})

    def post(self, request, pk):
        if not request.user.has_perm("campaigns.change_flow"):
            return self.handle_no_permission()
        flow = get_object_or_404(Flow, pk=pk)
        if flow.status == Flow.ACTIVE:
            messages.error(request, "Pause the flow before changing it.")
            return redirect("campaigns-dashboard:flow", pk=flow.pk)
        form = FlowSettingsForm(request.POST, instance=flow, trigger=_trigger(flow))
        if not form.is_valid():
            return self.get(request, pk, form=form)
        form.save()
        messages.success(request, "Flow settings saved.")
        return redirect("campaigns-dashboard:flow", pk=flow.pk)


def _target_label(target: str, number: int, numbers: dict, total: int) -> str:
    if target == FlowStep.END:
        return "end of the flow"
    if target == FlowStep.NEXT:
        return f"step {number + 1}" if number < total else "end of the flow"
    return f"step {numbers[target]}" if target in numbers else "a step that no longer exists"


class StepEditView(StaffPermission, View):
    permission_required = "campaigns.change_flow"

    def _objects(self, pk, step_pk):
        flow = get_object_or_404(Flow, pk=pk)
        step = get_object_or_404(FlowStep, pk=step_pk, flow=flow) if step_pk else None
        return flow, step

    def get(self, request, pk, step_pk=None):
        flow, step = self._objects(pk, step_pk)
        return self._page(request, flow, step, StepForm(flow=flow, step=step))

    def _page(self, request, flow, step, form, status=200):
        number = flow.steps_in_order().index(step) + 1 if step else None
        return render(request, "campaigns/flows/step_form.html",
                      {"flow": flow, "step": step, "form": form, "number": number,
                       "title": step_label(step, number).capitalize() if step else "New step"}, status=status)

    def post(self, request, pk, step_pk=None):
        flow, step = self._objects(pk, step_pk)
        form = StepForm(request.POST, flow=flow, step=step)
        if not form.is_valid():
            return self._page(request, flow, step, form, status=400)
        data = form.cleaned_data
        try:
            step_save(flow=flow, step=step, kind=data["kind"], wait_hours=data["wait_hours"], config=data["config"],
                      next_target=data.get("next_target") or "", else_target=data.get("else_target") or "end")
        except FlowError as exc:
            messages.error(request, str(exc))
            return redirect("campaigns-dashboard:flow", pk=flow.pk)
        messages.success(request, "Step saved.")
        return redirect("campaigns-dashboard:flow", pk=flow.pk)


class StepActionView(StaffPermission, View):
    """Delete a step, or move it up or down."""

    permission_required = "campaigns.change_flow"
    action = "delete"

    def post(self, request, pk, step_pk):
        flow = get_object_or_404(Flow, pk=pk)
        step = get_object_or_404(FlowStep, pk=step_pk, flow=flow)
        try:
            if self.action == "delete":
                step_delete(flow=flow, step=step)
                messages.success(request, "Step deleted; branches that went to it go to the following step.")
            else:
                step_move(flow=flow, step=step, offset=-1 if self.action == "up" else 1)
        except FlowError as exc:
            messages.error(request, str(exc))
        return redirect("campaigns-dashboard:flow", pk=flow.pk)


class FlowStatusView(StaffPermission, View):
    permission_required = "campaigns.change_flow"
    action = "activate"

    def post(self, request, pk):
        flow = get_object_or_404(Flow, pk=pk)
        if self.action == "activate":
            try:
                flow_activate(flow=flow)
            except FlowError as exc:
                messages.error(request, str(exc))
                return redirect("campaigns-dashboard:flow", pk=flow.pk)
            messages.success(request, f"“{flow.name}” is active: its trigger is checked on every tick.")
        else:
            flow_pause(flow=flow)
            messages.success(request, f"“{flow.name}” is paused: customers in it wait where they are.")
        return redirect("campaigns-dashboard:flow", pk=flow.pk)


class FlowDeleteView(StaffPermission, View):
    permission_required = "campaigns.delete_flow"

    def post(self, request, pk):
        flow = get_object_or_404(Flow, pk=pk)
        try:
            flow_delete(flow=flow)
        except FlowError as exc:
            messages.error(request, str(exc))
            return redirect("campaigns-dashboard:flow", pk=flow.pk)
        messages.success(request, f"Flow “{flow.name}” deleted.")
        return redirect("campaigns-dashboard:flows")


class EnrolmentListView(StaffPermission, ListView):
    """Who is where in the flow: the step they wait for, held out, completed, or why they left."""

    permission_required = "campaigns.view_flowenrolment"
    template_name = "campaigns/flows/enrolments.html"
    context_object_name = "enrolments"
    paginate_by = 50

    def get_queryset(self):
        self.flow = get_object_or_404(Flow, pk=self.kwargs["pk"])
        queryset = self.flow.enrolments.select_related("step")
        self.filter_form = EnrolmentFilter(self.request.GET or None)
        if self.filter_form.is_valid():
            status, query = self.filter_form.cleaned_data["status"], self.filter_form.cleaned_data["q"].strip()
            if status == "held_out":
                queryset = queryset.filter(held_out=True)
            elif status:
                queryset = queryset.filter(status=status)
            if query:
                queryset = queryset.filter(person_key__icontains=query)
        return queryset

    def get_context_data(self, **kwargs):
        from ecrm.models import Profile

        context = super().get_context_data(flow=self.flow, filter_form=self.filter_form, **kwargs)
        page = list(context["enrolments"])
        profiles = dict(Profile.objects.filter(person_key__in={e.person_key for e in page})
                        .values_list("person_key", "pk"))
        numbers = {s.pk: n for n, s in enumerate(self.flow.steps_in_order(), start=1)}
        for enrolment in page:
            enrolment.profile_pk = profiles.get(enrolment.person_key)
            enrolment.step_number = numbers.get(enrolment.step_id)
        return context


