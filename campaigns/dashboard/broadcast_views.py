"""Broadcasts in Oscar's dashboard: list, create and edit a draft, schedule (now, at a time,
at a local time), cancel, follow the fan-out and delivery, and the live audience count."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from campaigns.broadcasts import BroadcastError, audience_count, broadcast_cancel, broadcast_schedule
from campaigns.dashboard.broadcast_forms import BroadcastForm, CommunicationEventType, ScheduleForm
from campaigns.models import Broadcast, Message
from tracking.dashboard.views import StaffPermission


def progress(broadcast: Broadcast) -> dict:
    """Where a broadcast is: fanned out so far, and its messages by status."""
    counts = dict(Message.objects.filter(campaign=broadcast.campaign).order_by().values_list("status")
                  .annotate(n=Count("pk")))
    return {"status": broadcast.status, "status_label": broadcast.get_status_display(),
            "audience": broadcast.audience, "held_out": broadcast.held_out,
            "fanned_out": broadcast.fanout_done_at is not None,
            "messages": {label: counts.get(status, 0) for status, label in Message.STATUSES},
            "done": sum(counts.get(s, 0) for s in (Message.SENT, Message.SKIPPED, Message.DEAD)),
            "total": sum(counts.values())}


class BroadcastListView(StaffPermission, ListView):
    permission_required = "campaigns.view_broadcast"
    template_name = "campaigns/dashboard/broadcast_list.html"
    context_object_name = "broadcasts"
    paginate_by = 30
    queryset = Broadcast.objects.select_related("segment")


class _BroadcastEdit(StaffPermission):
    model = Broadcast
    form_class = BroadcastForm
    template_name = "campaigns/dashboard/broadcast_form.html"

    def get_success_url(self):
        return reverse("campaigns-dashboard:broadcast", kwargs={"pk": self.object.pk})

    def get_context_data(self, **kwargs):
        codes = CommunicationEventType.objects.order_by("code").values_list("code", flat=True)
        return super().get_context_data(template_codes=list(codes), **kwargs)


class BroadcastCreateView(_BroadcastEdit, CreateView):
    permission_required = "campaigns.add_broadcast"

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        messages.success(self.request, "Broadcast saved as a draft: check the audience, then schedule it.")
        return super().form_valid(form)


class BroadcastUpdateView(_BroadcastEdit, UpdateView):
    permission_required = "campaigns.change_broadcast"

    def get_queryset(self):  # what has started sending is not edited any more
        return Broadcast.objects.filter(status__in=[Broadcast.DRAFT, Broadcast.SCHEDULED])


class BroadcastDetailView(StaffPermission, DetailView):
    permission_required = "campaigns.view_broadcast"
    template_name = "campaigns/dashboard/broadcast_detail.html"
    model = Broadcast
    context_object_name = "broadcast"

    def get_context_data(self, **kwargs):
        broadcast = self.object
        return super().get_context_data(
            progress=progress(broadcast), schedule_form=kwargs.pop("schedule_form", ScheduleForm()),
            audience=audience_count(broadcast.segment, broadcast.topic)
            if broadcast.status in (Broadcast.DRAFT, Broadcast.SCHEDULED) else None, **kwargs)


class BroadcastScheduleView(StaffPermission, View):
    permission_required = "campaigns.change_broadcast"

    def post(self, request, pk):
        broadcast = get_object_or_404(Broadcast, pk=pk)
        form = ScheduleForm(request.POST)
        if not form.is_valid():
            view = BroadcastDetailView(request=request, kwargs={"pk": pk}, object=broadcast)
            return view.render_to_response(view.get_context_data(schedule_form=form), status=400)
        when = form.cleaned_data["when"]
        try:
            broadcast = broadcast_schedule(broadcast=broadcast, local_time=when == ScheduleForm.LOCAL,
                                           send_at=None if when == ScheduleForm.NOW else form.cleaned_data["send_at"])
        except BroadcastError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Sending now: the next tick fans it out." if when == ScheduleForm.NOW
                             else "Scheduled.")
        return redirect("campaigns-dashboard:broadcast", pk=pk)


class BroadcastCancelView(StaffPermission, View):
    permission_required = "campaigns.change_broadcast"

    def post(self, request, pk):
        broadcast = get_object_or_404(Broadcast, pk=pk)
        try:
            stopped = broadcast_cancel(broadcast=broadcast)
        except BroadcastError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Cancelled; {stopped} message(s) not yet sent will not be.")
        return redirect("campaigns-dashboard:broadcast", pk=pk)


class BroadcastProgressView(StaffPermission, View):
    """JSON for the detail page's live progress."""

    permission_required = "campaigns.view_broadcast"

    def get(self, request, pk):
        return JsonResponse(progress(get_object_or_404(Broadcast, pk=pk)))


class AudienceCountView(StaffPermission, View):
    """The live audience count while a marketer picks segment and topic."""

    permission_required = "campaigns.view_broadcast"

    def get(self, request):
        from ecrm.models import Segment

        segment_id, topic = request.GET.get("segment", ""), request.GET.get("topic", "").strip().lower()
        if not segment_id.isdigit() or not topic:
            return JsonResponse({"error": "give segment (an id) and topic"}, status=400)
        segment = Segment.objects.filter(pk=segment_id).first()
        if segment is None:
            return JsonResponse({"error": f"no segment {segment_id}"}, status=404)
        return JsonResponse({"segment": segment.name, "topic": topic, "members": segment.member_count,
                             "count": audience_count(segment, topic)})
