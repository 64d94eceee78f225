"""The traffic and campaigns report, and the campaign costs marketing enters for its ROI."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from ecrm.dashboard.forms import CampaignCostForm
from ecrm.dashboard.report_views import ReportInputError, _days, report_period, requested_days
from ecrm.models import CampaignCost, TrafficDay
from ecrm.traffic import DIMENSIONS, campaign_returns, known_campaigns, traffic_daily, traffic_rows
from tracking.dashboard.views import StaffPermission

CHART_VALUES = 10
EMPTY_LABELS = {"source": "(none)", "medium": "(none)", "campaign": "(no campaign)", "landing_page": "(unknown)",
                "referrer": "(no referrer)", "search_term": "(no search term)"}


def _dimension(request) -> str:
    value = request.GET.get("dimension", "") or TrafficDay.SOURCE
    if value not in DIMENSIONS:
        raise ReportInputError(f"dimension must be one of: {', '.join(DIMENSIONS)} (got “{value[:30]}”)")
    return value


def _ratio(value) -> str:
    return "" if value is None else f"{value:.4f}"


class TrafficReportView(StaffPermission, TemplateView):
    """Sessions, conversion and revenue per value of the chosen dimension for the last
    ``?days=``, first- and last-touch side by side; campaign costs with ROI and ROAS."""

    permission_required = "ecrm.view_customer_reports"
    template_name = "ecrm/dashboard/traffic_report.html"

    def get(self, request, *args, **kwargs):
        try:
            dimension, days = _dimension(request), requested_days(request)
            if request.GET.get("format", "html") not in ("html", "csv"):
                raise ReportInputError("format must be html or csv")
        except ReportInputError as exc:
            dimension, days = TrafficDay.SOURCE, _days(request)
            response = self.render_to_response(self.context(
                dimension, days, traffic_rows(dimension, *report_period(days)), CampaignCostForm(), error=str(exc)))
            response.status_code = 400
            return response
        first, last = report_period(days)
        rows = traffic_rows(dimension, first, last)
        if request.GET.get("format") == "csv":
            return self.csv(rows, dimension, first, last)
        return self.render_to_response(self.context(dimension, days, rows, CampaignCostForm()))

    def context(self, dimension, days, rows, form, error: str = "") -> dict:
        first, last = report_period(days)
        empty = EMPTY_LABELS[dimension]
        for row in rows:
            row["label"] = row["value"] or empty
        top = rows[:CHART_VALUES]
        daily = traffic_daily(dimension, first, last)
        chart = {"labels": [r["label"][:40] for r in top],
                 "sessions": [r["sessions"] for r in top],
                 "last_touch": [float(r["revenue"]) for r in top],
                 "first_touch": [float(r["first_touch_revenue"]) for r in top],
                 "days": [d.isoformat() for d in daily], "daily_sessions": [v["sessions"] for v in daily.values()],
                 "daily_revenue": [float(v["revenue"]) for v in daily.values()]}
        totals = {name: sum(r[name] for r in rows) for name in
                  ("sessions", "converted_sessions", "orders", "revenue", "first_touch_orders", "first_touch_revenue")}
        totals["conversion_rate"] = totals["converted_sessions"] / totals["sessions"] if totals["sessions"] else None
        return self.get_context_data(
            dimension=dimension, dimensions=DIMENSIONS, dimension_label=DIMENSIONS[dimension], days=days,
            first=first, last=last, rows=rows[:200],
            row_count=len(rows), totals=totals, chart=chart, returns=campaign_returns(first, last), form=form,
            campaigns=known_campaigns(), error=error,
            can_enter_costs=self.request.user.has_perm("ecrm.add_campaigncost"),
            can_delete_costs=self.request.user.has_perm("ecrm.delete_campaigncost"))

    @staticmethod
    def csv(rows, dimension, first, last) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="traffic-{dimension}-{first}-{last}.csv"'
        writer = csv.writer(response)
        writer.writerow([dimension, "sessions", "converted_sessions", "conversion_rate", "orders_last_touch",
                         "revenue_last_touch", "orders_first_touch", "revenue_first_touch"])
        for r in rows:
            writer.writerow([r["value"], r["sessions"], r["converted_sessions"], _ratio(r["conversion_rate"]),
                             r["orders"], f"{r['revenue']:.2f}", r["first_touch_orders"],
                             f"{r['first_touch_revenue']:.2f}"])
        return response


class CampaignCostCreateView(StaffPermission, View):
    """Record what a campaign cost; an invalid entry shows the report again with the reasons (400)."""

    permission_required = "ecrm.add_campaigncost"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = CampaignCostForm(request.POST)
        if not form.is_valid():
            report = TrafficReportView(request=request, args=args, kwargs=kwargs)
            dimension, days = TrafficDay.CAMPAIGN, _days(request)
            first, last = report_period(days)
            response = report.render_to_response(report.context(
                dimension, days, traffic_rows(dimension, first, last), form))
            response.status_code = 400
            return response
        cost = form.save(commit=False)
        cost.entered_by = request.user
        cost.save()
        messages.success(request, f"Cost of {cost.campaign} from {cost.starts_on} to {cost.ends_on} recorded.")
        return redirect(reverse("ecrm-dashboard:traffic-report") + "?dimension=campaign#roi")


class CampaignCostDeleteView(StaffPermission, View):
    permission_required = "ecrm.delete_campaigncost"
    http_method_names = ["post"]

    def post(self, request, pk, *args, **kwargs):
        cost = get_object_or_404(CampaignCost, pk=pk)
        cost.delete()
        messages.success(request, f"Cost of {cost.campaign} from {cost.starts_on} to {cost.ends_on} removed.")
        return redirect(reverse("ecrm-dashboard:traffic-report") + "?dimension=campaign#roi")
