"""The funnel report (the default shop funnel, steps the marketer writes, or a saved
funnel; for a period; split by source, medium, campaign, week, device or segment; with a
chart and CSV) and saving, updating and deleting named funnels."""

from __future__ import annotations

import csv
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from ecrm.dashboard.report_views import ReportInputError, _days, requested_days
from ecrm.funnel_data import SPLITS, check_events, funnel_traces
from ecrm.funnels import DEFAULT_STEPS, FunnelError, funnel, parse_steps, step_label, steps_text
from ecrm.models import SavedFunnel
from tracking.dashboard.views import StaffPermission

REPORT_URL = "ecrm-dashboard:funnel-report"


class SavedFunnelForm(forms.ModelForm):
    """A name and the steps, checked as the report checks them."""

    steps = forms.CharField(widget=forms.Textarea, max_length=5000, required=False)

    class Meta:
        model = SavedFunnel
        fields = ["name"]

    def clean_steps(self):
        try:
            steps = parse_steps(self.cleaned_data["steps"])
            check_events(steps)
        except FunnelError as exc:
            raise forms.ValidationError(str(exc)) from None
        return steps

    def save(self, commit=True):
        self.instance.steps = self.cleaned_data["steps"]
        return super().save(commit)


class FunnelReportView(StaffPermission, TemplateView):
    permission_required = "ecrm.view_customer_reports"
    template_name = "ecrm/dashboard/funnel_report.html"

    def get(self, request, *args, **kwargs):
        saved = None
        if request.GET.get("funnel"):
            if not request.GET["funnel"].isdigit():
                raise Http404("No such saved funnel.")
            saved = get_object_or_404(SavedFunnel, pk=int(request.GET["funnel"]))
        text = request.GET.get("steps", "").strip() or (steps_text(saved.steps) if saved else "")
        try:
            steps = parse_steps(text) if text else DEFAULT_STEPS
            check_events(steps)
            days = requested_days(request)
            split = request.GET.get("split", "")
            if split not in SPLITS:
                raise ReportInputError(f"split must be one of: {', '.join(k for k in SPLITS if k)} (or nothing)")
        except (FunnelError, ReportInputError) as exc:
            return self.page([str(exc)], text=text, saved=saved, days=_days(request), status=400)
        until = timezone.now()
        result = funnel(funnel_traces(steps, until - timedelta(days=days), until, split), steps)
        if request.GET.get("format") == "csv":
            return self._csv(result)
        return self.page([], text=text, saved=saved, steps=steps, result=result, days=days, split=split)

    def page(self, errors, *, text, saved, steps=None, result=None, days=30, split="", form=None, status=200):
        steps = steps or DEFAULT_STEPS
        result = result or {}
        context = self.get_context_data(
            result=result, errors=errors, days=days, split=split, splits=SPLITS, saved=saved,
            saved_funnels=SavedFunnel.objects.all(), save_form=form,
            steps_text=text or steps_text(DEFAULT_STEPS),
            chart={"labels": [step_label(s) for s in steps],
                   "groups": [{"label": group or "all sessions", "data": [r["sessions"] for r in rows]}
                              for group, rows in list(result.items())[:8]]})
        return self.render_to_response(context, status=status)

    @staticmethod
    def _csv(result) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="funnel.csv"'
        writer = csv.writer(response)
        writer.writerow(["group", "step", "sessions", "conversion_from_previous", "conversion_from_first", "drop_off"])
        for group, rows in result.items():
            for row in rows:
                writer.writerow([group or "all", row["step"], row["sessions"],
                                 "" if row["from_previous"] is None else f"{row['from_previous']:.4f}",
                                 "" if row["from_first"] is None else f"{row['from_first']:.4f}", row["drop_off"]])
        return response


class SavedFunnelSaveView(StaffPermission, View):
    """POST name + steps: a new saved funnel, or (``pk``) new steps or name for one."""

    http_method_names = ["post"]

    def get_permission_required(self):
        return ["ecrm.change_savedfunnel" if self.kwargs.get("pk") else "ecrm.add_savedfunnel"]

    def post(self, request, pk=None):
        instance = get_object_or_404(SavedFunnel, pk=pk) if pk else SavedFunnel(created_by=request.user)
        form = SavedFunnelForm(request.POST, instance=instance)
        if not form.is_valid():
            errors = [f"{'' if field == '__all__' else field + ': '}{error}"
                      for field, field_errors in form.errors.items() for error in field_errors]
            report = FunnelReportView()
            report.setup(request)
            return report.page(errors, text=request.POST.get("steps", ""), saved=instance if pk else None,
                               form=form, status=400)
        saved = form.save()
        messages.success(request, f"Funnel “{saved.name}” saved.")
        return redirect(reverse(REPORT_URL) + f"?funnel={saved.pk}")


class SavedFunnelDeleteView(StaffPermission, View):
    permission_required = "ecrm.delete_savedfunnel"
    http_method_names = ["post"]

    def post(self, request, pk):
        saved = get_object_or_404(SavedFunnel, pk=pk)
        saved.delete()
        messages.success(request, f"Funnel “{saved.name}” deleted.")
        return redirect(REPORT_URL)
