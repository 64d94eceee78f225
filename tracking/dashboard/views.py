"""The tracking app's screens in Oscar's dashboard: write keys (Segment's "sources"),
a live event debugger, and the quarantine with replay."""

from __future__ import annotations

from datetime import timedelta

import redis
from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from tracking.defaults import setting
from tracking.models import Event, QuarantinedEvent, WriteKey
from tracking.replay import replay
from tracking.stream import backlog


class StaffPermission(LoginRequiredMixin, PermissionRequiredMixin):
    """Anonymous visitors go to the login page; signed-in users without the right get 403."""

    raise_exception = False

    def handle_no_permission(self):
        self.raise_exception = self.request.user.is_authenticated
        return super().handle_no_permission()

    def has_permission(self):
        return self.request.user.is_staff and super().has_permission()


class WriteKeyForm(forms.ModelForm):
    class Meta:
        model = WriteKey
        fields = ["name", "kind"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the key a name that says who sends with it.")
        return name


class WriteKeyListView(StaffPermission, ListView):
    permission_required = "tracking.view_writekey"
    template_name = "tracking/dashboard/write_key_list.html"
    context_object_name = "keys"
    paginate_by = 50

    def get_queryset(self):
        since = timezone.now() - timedelta(hours=24)
        return WriteKey.objects.annotate(
            events_24h=Count("event", filter=Q(event__received_at__gte=since)),
            last_event_at=Max("event__received_at"),
        ).order_by("revoked_at", "-created_at")


class WriteKeyCreateView(StaffPermission, FormView):
    permission_required = "tracking.add_writekey"
    template_name = "tracking/dashboard/write_key_form.html"
    form_class = WriteKeyForm

    def form_valid(self, form):
        key, raw = WriteKey.generate(name=form.cleaned_data["name"], kind=form.cleaned_data["kind"])
        # The raw key is shown in this one response and stored nowhere: only its hash is kept.
        return render(self.request, "tracking/dashboard/write_key_created.html", {
            "key": key, "raw_key": raw,
            "endpoint": self.request.build_absolute_uri(reverse("tracking:v1-batch"))})


class WriteKeyRevokeView(StaffPermission, DetailView):
    permission_required = "tracking.change_writekey"
    template_name = "tracking/dashboard/write_key_revoke.html"
    model = WriteKey
    context_object_name = "key"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "cache_seconds": setting("TRACKING_WRITE_KEY_CACHE_SECONDS")}

    def post(self, request, pk):
        key = get_object_or_404(WriteKey, pk=pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            messages.success(request, f"Write key “{key.name}” is revoked.")
        else:
            messages.info(request, f"Write key “{key.name}” was already revoked.")
        return redirect("tracking-dashboard:write-keys")


class EventFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, choices=[("", "Any call")] + [
        (t, t) for t in ("track", "page", "identify", "alias", "group", "screen")])
    event = forms.CharField(required=False, label="Event name")
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), ("server", "Server"),
                                                        ("browser", "Browser"), ("api", "API")])
    person = forms.CharField(required=False, label="Anonymous or user id")
    write_key = forms.ModelChoiceField(required=False, queryset=WriteKey.objects.all(),
                                       empty_label="Any write key")


class EventListView(StaffPermission, ListView):
    """Segment's debugger: the latest stored events, newest first, and the stream's backlog."""

    permission_required = "tracking.view_event"
    template_name = "tracking/dashboard/event_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        self.form = EventFilterForm(self.request.GET or None)
        events = Event.objects.select_related("write_key").order_by("-received_at", "-id")
        if not self.form.is_valid():  # nonsense filters find nothing rather than fail
            return events.none() if self.form.is_bound else events
        data = self.form.cleaned_data
        for field in ("type", "source", "write_key"):
            if data[field]:
                events = events.filter(**{field: data[field]})
        if data["event"]:
            events = events.filter(event__iexact=data["event"].strip())
        if data["person"]:
            person = data["person"].strip()
            events = events.filter(Q(anonymous_id=person) | Q(user_id=person))
        return events

    def get_context_data(self, **kwargs):
        try:
            queue, queue_error = backlog(), ""
        except redis.RedisError as exc:
            queue, queue_error = None, f"{type(exc).__name__}: {exc}"
        return {**super().get_context_data(**kwargs), "form": self.form, "queue": queue,
                "queue_error": queue_error}


class EventDetailView(StaffPermission, DetailView):
    permission_required = "tracking.view_event"
    template_name = "tracking/dashboard/event_detail.html"
    model = Event
    context_object_name = "event"


class QuarantineListView(StaffPermission, ListView):
    permission_required = "tracking.view_quarantinedevent"
    template_name = "tracking/dashboard/quarantine_list.html"
    context_object_name = "entries"
    paginate_by = 50

    def get_queryset(self):
        entries = QuarantinedEvent.objects.order_by("-quarantined_at")
        if self.request.GET.get("show") != "all":
            entries = entries.filter(replayed_at__isnull=True)
        return entries


class QuarantineDetailView(StaffPermission, DetailView):
    permission_required = "tracking.view_quarantinedevent"
    template_name = "tracking/dashboard/quarantine_detail.html"
    model = QuarantinedEvent
    context_object_name = "entry"


class QuarantineReplayView(StaffPermission, View):
    permission_required = ("tracking.view_quarantinedevent", "tracking.change_quarantinedevent")

    def post(self, request):
        entries = QuarantinedEvent.objects.filter(replayed_at__isnull=True).order_by("id")
        if request.POST.get("all") != "1":
            ids = [value for value in request.POST.getlist("selected") if value.isdigit()]
            if not ids:
                messages.warning(request, "Select the entries to replay, or replay all.")
                return redirect("tracking-dashboard:quarantine")
            entries = entries.filter(pk__in=ids)
        replayed, failed = replay(entries)
        messages.success(request, f"Replayed {replayed} events; {failed} still quarantined.")
        return redirect("tracking-dashboard:quarantine")


class IndexView(StaffPermission, View):
    permission_required = "tracking.view_writekey"

    def get(self, request, *args, **kwargs):
        return redirect("tracking-dashboard:write-keys")
