"""Results of every campaign (broadcasts, flows): the funnel, conversions against the
holdout with the lift's interval, revenue and ROI, charted, and as CSV."""

from __future__ import annotations

import csv
import re

from django.http import Http404, HttpResponse
from django.views.generic import TemplateView

from campaigns.results import campaign_results, campaigns_known, chart_data, results_rows
from tracking.dashboard.views import StaffPermission

CAMPAIGN = re.compile(r"^[a-z][a-z0-9_-]{0,20}:[A-Za-z0-9_-]{1,30}$")


class ResultsListView(StaffPermission, TemplateView):
    permission_required = "campaigns.view_campaign_results"
    template_name = "campaigns/dashboard/results_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(results=[campaign_results(key) for key in campaigns_known()[:100]], **kwargs)


class ResultsView(StaffPermission, TemplateView):
    permission_required = "campaigns.view_campaign_results"
    template_name = "campaigns/dashboard/results.html"

    def get(self, request, *args, campaign: str, **kwargs):
        if not CAMPAIGN.match(campaign) or campaign not in campaigns_known():
            raise Http404(f"No campaign {campaign!r} with messages or a holdout.")
        self.results = campaign_results(campaign)
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{campaign.replace(":", "-")}-results.csv"'
            writer = csv.writer(response)
            rows = results_rows(self.results)
            writer.writerow([label for label, _ in rows])
            writer.writerow([value for _, value in rows])
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(r=self.results, chart=chart_data(self.results), **kwargs)
