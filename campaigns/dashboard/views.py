"""The outbox in Oscar's dashboard: every message with its state, the dead letters staff can
send again, and the suppressed addresses. Marketing may retry and lift; Support may look."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView

from campaigns.deliverability import suppression_lift
from campaigns.models import Message, Suppression
from campaigns.outbox import message_retry
from tracking.dashboard.views import StaffPermission


class OutboxFilter(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Message.STATUSES])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Message.KINDS])
    q = forms.CharField(required=False, max_length=254, label="E-mail or key")


class OutboxView(StaffPermission, ListView):
    permission_required = "campaigns.view_message"
    template_name = "campaigns/dashboard/outbox.html"
    context_object_name = "outbox_messages"
    paginate_by = 50
    dead_letters = False

    def get_queryset(self):
        queryset = Message.objects.all()
        if self.dead_letters:
            return queryset.filter(status=Message.DEAD)
        self.filter_form = OutboxFilter(self.request.GET or None)
        if self.filter_form.is_valid():
            data = self.filter_form.cleaned_data
            if data["status"]:
                queryset = queryset.filter(status=data["status"])
            if data["kind"]:
                queryset = queryset.filter(kind=data["kind"])
            if data["q"]:
                queryset = queryset.filter(to_email__icontains=data["q"]) | queryset.filter(key__startswith=data["q"])
        return queryset

    def get_context_data(self, **kwargs):
        counts = dict(Message.objects.values_list("status").annotate(n=Count("pk")))
        return super().get_context_data(
            dead_letters=self.dead_letters, filter_form=getattr(self, "filter_form", None),
            counts=[(label, counts.get(status, 0), status) for status, label in Message.STATUSES], **kwargs)


class MessageDetailView(StaffPermission, DetailView):
    permission_required = "campaigns.view_message"
    template_name = "campaigns/dashboard/message_detail.html"
    context_object_name = "message"
    model = Message


class MessageRetryView(StaffPermission, View):
    """Send a dead letter (or a message policy skipped) again: attempts start from zero."""

    permission_required = "campaigns.retry_message"

    def post(self, request, pk):
        message = get_object_or_404(Message, pk=pk)
        try:
            message_retry(message=message)
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Message to {message.to_email} queued again.")
        return redirect("campaigns-dashboard:message", pk=message.pk)


class SuppressionListView(StaffPermission, ListView):
    permission_required = "campaigns.view_suppression"
    template_name = "campaigns/dashboard/suppressions.html"
    context_object_name = "suppressions"
    paginate_by = 50

    def get_queryset(self):
        query = self.request.GET.get("q", "").strip()
        queryset = Suppression.objects.all()
        return queryset.filter(email__icontains=query) if query else queryset


class SuppressionLiftView(StaffPermission, View):
    permission_required = "campaigns.delete_suppression"

    def post(self, request, pk):
        suppression = get_object_or_404(Suppression, pk=pk)
        suppression_lift(suppression=suppression)
        messages.success(request, f"{suppression.email} may be e-mailed again (consent still applies).")
        return redirect("campaigns-dashboard:suppressions")
