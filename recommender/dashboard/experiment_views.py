"""A/B tests in Oscar's dashboard: train a candidate configuration, start an experiment of
a kept version against the serving one, stop it, and read its results."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views import View
from django.views.generic import DetailView

from recommender.dashboard.forms import CandidateForm, ExperimentForm
from recommender.experiment_results import experiment_results
from recommender.experiments import CONTROL, VARIANT, experiment_start, experiment_stop
from recommender.models import Experiment, ModelVersion
from recommender.tasks import train_candidate
from tracking.dashboard.views import StaffPermission

TEMPLATE = "recommender/dashboard/experiment_list.html"


def _list_page(request, *, candidate_form=None, experiment_form=None, status=200):
    context = {
        "experiments": Experiment.objects.select_related("control", "variant")[:50],
        "running": Experiment.objects.filter(status=Experiment.RUNNING).first(),
        "serving": ModelVersion.objects.filter(status=ModelVersion.SERVING).first(),
        "candidate_form": candidate_form or CandidateForm(),
        "experiment_form": experiment_form or ExperimentForm(),
    }
    return TemplateResponse(request, TEMPLATE, context, status=status)


class ExperimentListView(StaffPermission, View):
    permission_required = "recommender.view_experiment"

    def get(self, request):
        return _list_page(request)


class CandidateView(StaffPermission, View):
    """Queue the training of a candidate (on the Celery worker; it takes a minute or more)."""

    permission_required = ("recommender.add_modelversion", "recommender.add_experiment")

    def post(self, request):
        form = CandidateForm(request.POST)
        if not form.is_valid():
            return _list_page(request, candidate_form=form, status=400)
        train_candidate.delay(form.candidate(), form.describe())
        messages.success(request, f"Training has started ({form.describe()}); the candidate appears in the "
                                  f"list of versions to test when it is done.")
        return redirect("recommender-dashboard:experiments")


class ExperimentStartView(StaffPermission, View):
    permission_required = "recommender.add_experiment"

    def post(self, request):
        form = ExperimentForm(request.POST)
        if form.is_valid():
            try:
                experiment = experiment_start(name=form.cleaned_data["name"], variant=form.cleaned_data["variant"],
                                              variant_share=form.cleaned_data["variant_share"],
                                              by=request.user.get_username())
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{experiment} has started.")
                return redirect("recommender-dashboard:experiment", pk=experiment.pk)
        return _list_page(request, experiment_form=form, status=400)


class ExperimentStopView(StaffPermission, View):
    permission_required = "recommender.change_experiment"

    def post(self, request, pk):
        experiment = get_object_or_404(Experiment, pk=pk)
        try:
            experiment_stop(experiment)
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect("recommender-dashboard:experiment", pk=pk)
        messages.success(request, f"{experiment} has stopped; everyone sees the serving version again.")
        return redirect("recommender-dashboard:experiment", pk=pk)


class ExperimentResultsView(StaffPermission, DetailView):
    permission_required = "recommender.view_experiment"
    model = Experiment
    template_name = "recommender/dashboard/experiment_results.html"
    context_object_name = "experiment"

    def get_context_data(self, **kwargs):
        results = experiment_results(self.object)
        control, variant = results["arms"][CONTROL], results["arms"][VARIANT]
        metrics = [  # (label, key, how to show it) for the table
            ("Click-through rate", "ctr", "percent"), ("Orders per visitor", "orders_per_visitor", "number"),
            ("Revenue per visitor", "revenue_per_visitor", "money"),
            ("Revenue per impression", "revenue_per_impression", "money"),
        ]
        rows = [{"label": label, "control": _shown(control[key], kind), "variant": _shown(variant[key], kind),
                 "difference": _shown(results["differences"][key], kind),
                 "significant": results["differences"][key].significant,
                 "known": results["differences"][key].low is not None} for label, key, kind in metrics]
        chart = {"arms": [f"Control v{control['version']}", f"Variant v{variant['version']}"],
                 "ctr": [_percent(control["ctr"]), _percent(variant["ctr"])],
                 "daily": results["daily"]}
        serving = ModelVersion.objects.filter(status=ModelVersion.SERVING).first()
        return super().get_context_data(results=results, control=control, variant=variant, rows=rows, chart=chart,
                                        serving=serving, **kwargs)


def _shown(estimate, kind: str) -> str:
    """"12.3 % (10.1 to 14.6)": an estimate and its 95% interval, as the table shows them."""
    def one(x):
        if kind == "percent":
            return f"{100 * x:.2f} %"
        return f"{x:.2f}" if kind == "money" else f"{x:.4f}"

    if estimate.value is None:
        return "—"
    if estimate.low is None:
        return one(estimate.value)
    return f"{one(estimate.value)} ({one(estimate.low)} to {one(estimate.high)})"


def _percent(estimate):
    """[estimate, low, high] in percent, for the chart (None when unknown)."""
    return [None if x is None else round(100 * x, 3) for x in (estimate.value, estimate.low, estimate.high)]
