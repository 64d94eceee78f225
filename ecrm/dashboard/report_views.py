"""Customer reports for marketing: the RFM grid (customers and revenue per cell, by group)
and predicted lifetime value with its fit diagnostic."""

from __future__ import annotations

import csv

from django.db.models import Count, Sum
from django.http import HttpResponse
from django.views.generic import TemplateView

from ecrm.models import Profile, ScoreFit
from ecrm.product_conversion import product_conversion
from ecrm.rfm import GROUPS
from tracking.dashboard.views import StaffPermission


def rfm_grid() -> dict:
    cells = {(r, f): {"customers": 0, "revenue": 0.0} for r in range(1, 6) for f in range(1, 6)}
    rows = Profile.objects.exclude(rfm_group="").values("rfm_recency", "rfm_frequency").annotate(
        customers=Count("id"), revenue=Sum("revenue"))
    for row in rows:
        cells[(row["rfm_recency"], row["rfm_frequency"])] = {"customers": row["customers"],
                                                             "revenue": float(row["revenue"] or 0)}
    groups = {g: {"customers": 0, "revenue": 0.0} for g in GROUPS}
    for row in Profile.objects.exclude(rfm_group="").values("rfm_group").annotate(
            customers=Count("id"), revenue=Sum("revenue")):
        groups[row["rfm_group"]] = {"customers": row["customers"], "revenue": float(row["revenue"] or 0)}
    total = sum(g["customers"] for g in groups.values()) or 1
    busiest = max(c["customers"] for c in cells.values()) or 1
    return {"cells": cells, "groups": groups, "total": total, "busiest": busiest}


class RfmReportView(StaffPermission, TemplateView):
    permission_required = "ecrm.view_customer_reports"
    template_name = "ecrm/dashboard/rfm_report.html"

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "csv":
            return self.csv()
        return super().get(request, *args, **kwargs)

    def csv(self) -> HttpResponse:
        grid = rfm_grid()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="rfm-grid.csv"'
        writer = csv.writer(response)
        writer.writerow(["recency_score", "frequency_score", "customers", "revenue"])
        for (r, f), cell in sorted(grid["cells"].items()):
            writer.writerow([r, f, cell["customers"], f"{cell['revenue']:.2f}"])
        writer.writerow([])
        writer.writerow(["group", "customers", "revenue"])
        for group, values in grid["groups"].items():
            writer.writerow([group, values["customers"], f"{values['revenue']:.2f}"])
        return response

    def get_context_data(self, **kwargs):
        grid = rfm_grid()
        rows = [{"r": r, "cells": [{**grid["cells"][(r, f)], "shade": round(grid["cells"][(r, f)]["customers"]
                                                                         / grid["busiest"], 2)}
                                   for f in range(1, 6)]} for r in range(5, 0, -1)]
        chart = {"labels": list(grid["groups"]), "customers": [g["customers"] for g in grid["groups"].values()],
                 "revenue": [round(g["revenue"], 2) for g in grid["groups"].values()]}
        scored_at = Profile.objects.exclude(rfm_group="").order_by("-scores_computed_at").values_list(
            "scores_computed_at", flat=True).first()
        return super().get_context_data(rows=rows, groups=grid["groups"], total=grid["total"],
                                        chart=chart, scored_at=scored_at, **kwargs)


CHURN_BANDS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)]


class LifetimeValueReportView(StaffPermission, TemplateView):
    """The BG/NBD + Gamma-Gamma fit: parameters, churn risk bands, most valuable customers,
    and the holdout diagnostic (predicted against actual repeat purchases) as charts."""

    permission_required = "ecrm.view_customer_reports"
    template_name = "ecrm/dashboard/clv_report.html"

    def get_context_data(self, **kwargs):
        fit = ScoreFit.objects.first()
        scored = Profile.objects.exclude(probability_alive=None)
        bands = [{"label": f"{int(low * 100)}–{min(100, int(high * 100))} %",
                  "customers": scored.filter(churn_risk__gte=low, churn_risk__lt=high).count(),
                  "value": float(scored.filter(churn_risk__gte=low, churn_risk__lt=high).aggregate(
                      v=Sum("predicted_clv"))["v"] or 0)} for low, high in CHURN_BANDS]
        diagnostic = (fit.diagnostic if fit else {}) or {}
        chart = {"weekly": diagnostic.get("weekly", []), "by_frequency": diagnostic.get("by_frequency", []),
                 "bands": bands}
        return super().get_context_data(
            fit=fit, bands=bands, diagnostic=diagnostic, chart=chart,
            top=scored.exclude(predicted_clv=None).order_by("-predicted_clv")[:20], **kwargs)


MAX_DAYS = 180


class ReportInputError(ValueError):
    """A report parameter that cannot be used; the text says which and why (shown with a 400)."""


def requested_days(request, *, default: int = 30, maximum: int = MAX_DAYS, name: str = "days") -> int:
    """The report's period from ``?days=`` (or ``name``): the default when absent, else a
    whole number from 1 to ``maximum``; anything else raises ``ReportInputError``."""
    value = request.GET.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise ReportInputError(f"{name} must be a whole number from 1 to {maximum} (got “{value[:20]}”)")
    return int(value)


def _days(request, default: int = 30) -> int:
    """The report's period from ``?days=``: 1 to MAX_DAYS, else the default."""
    try:
        return requested_days(request, default=default)
    except ReportInputError:
        return default


class ProductConversionReportView(StaffPermission, TemplateView):
    permission_required = "ecrm.view_customer_reports"
    template_name = "ecrm/dashboard/product_report.html"

    def get(self, request, *args, **kwargs):
        from datetime import timedelta

        from django.utils import timezone

        days = _days(request)
        until = timezone.now()
        products, categories = product_conversion(until - timedelta(days=days), until)
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="product-conversion.csv"'
            writer = csv.writer(response)
            writer.writerow(["product_id", "title", "category", "viewing_sessions", "adding_sessions", "orders",
                             "view_to_basket", "basket_to_purchase", "view_to_purchase"])
            for r in products:
                writer.writerow([r["product_id"], r["title"], r["category"], r["views"], r["adds"], r["orders"],
                                 *("" if r[k] is None else f"{r[k]:.4f}"
                                   for k in ("view_to_basket", "basket_to_purchase", "view_to_purchase"))])
            return response
        top = categories[:12]
        chart = {"labels": [c["category"] for c in top],
                 "view_to_basket": [round(100 * (c["view_to_basket"] or 0), 1) for c in top],
                 "view_to_purchase": [round(100 * (c["view_to_purchase"] or 0), 1) for c in top]}
        return self.render_to_response(self.get_context_data(
            products=products[:100], categories=categories, days=days, chart=chart))
