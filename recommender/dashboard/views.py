"""The recommender in Oscar's dashboard: versions with their metrics (and a chart of them
over time), catalogue coverage, retraining on demand and rolling back."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import ListView, TemplateView

from recommender.attribution import ATTRIBUTION_DAYS, slot_report
from recommender.lifecycle import roll_back
from recommender.models import ModelVersion
from recommender.tasks import train
from tracking.dashboard.views import StaffPermission


def _validation(version: ModelVersion, task: str, metric: str):
    """The chosen configuration's validation metric for a task (``next`` or ``new``)."""
    chosen = (version.chosen or {}).get(task)
    for candidate in (version.metrics or {}).get("validation", []):
        if candidate.get("spec") == chosen and task in candidate:
            return candidate[task].get(metric)
    return None


class VersionListView(StaffPermission, ListView):
    permission_required = "recommender.view_modelversion"
    template_name = "recommender/dashboard/version_list.html"
    context_object_name = "versions"
    paginate_by = 30

    def get_queryset(self):
        return ModelVersion.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        history = list(ModelVersion.objects.exclude(status=ModelVersion.FAILED).order_by("created_at")[:100])
        for version in context["versions"]:
            version.ndcg_next = _validation(version, "next", "ndcg")
            version.ndcg_new = _validation(version, "new", "ndcg")
            version.coverage = _validation(version, "next", "coverage")
            version.mode = (version.metrics or {}).get("mode")
            version.reason = (version.metrics or {}).get("reason", "")
        context["chart"] = {
            "labels": [f"v{v.pk}" for v in history],
            "next": [_validation(v, "next", "ndcg") for v in history],
            "new": [_validation(v, "new", "ndcg") for v in history],
            "coverage": [_validation(v, "next", "coverage") for v in history],
        }
        return context


class RetrainView(StaffPermission, View):
    """Queue a training run on the Celery worker: a refit of the serving configurations (or a
    full search when one is due), or with ``search=1`` a full search (a minute or more)."""

    permission_required = "recommender.add_modelversion"

    def post(self, request):
        search = request.POST.get("search") == "1"
        train.delay(search=search)
        messages.success(request, ("A full search has started" if search else "Training has started")
                         + "; the new version appears here when it is done.")
        return redirect("recommender-dashboard:versions")


class RollBackView(StaffPermission, View):
    permission_required = "recommender.change_modelversion"

    def post(self, request, pk):
        version = get_object_or_404(ModelVersion, pk=pk)
        try:
            roll_back(version)
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{version} is serving again.")
        return redirect("recommender-dashboard:versions")


class SlotReportView(StaffPermission, TemplateView):
    """Impressions, clicks, click-through rate and attributed revenue per slot and version."""

    permission_required = "recommender.view_modelversion"
    template_name = "recommender/dashboard/slot_report.html"

    def get_context_data(self, **kwargs):
        days = self.request.GET.get("days", "30")
        days = int(days) if days.isdigit() and 1 <= int(days) <= 365 else 30
        rows = slot_report(days=days)
        chart = {"labels": [f"{r['slot']} (v{r['version']})" for r in rows],
                 "ctr": [round(100 * r["ctr"], 2) if r["ctr"] is not None else None for r in rows],
                 "revenue": [r["revenue"] for r in rows]}
        return super().get_context_data(rows=rows, days=days, chart=chart, window=ATTRIBUTION_DAYS, **kwargs)
