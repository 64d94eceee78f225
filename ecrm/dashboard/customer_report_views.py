"""The Customers report: Pareto share with a Lorenz-style curve, monthly cohort retention,
repeat purchase rate, average order value over time, and sales by segment, region,
category and price band; with charts and a CSV of every table."""

from __future__ import annotations

import csv
from datetime import timedelta

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.generic import TemplateView

from ecrm import customer_orders
from ecrm.customer_metrics import (add_months, average_retention, cohort_retention, customer_summary, month_of,
                                   monthly_order_values, pareto)
from ecrm.customer_reports import (revenue_by_customer, sales_by_category, sales_by_price_band, sales_by_region,
                                   sales_by_segment, store_orders)
from ecrm.dashboard.report_views import ReportInputError, requested_days
from tracking.dashboard.views import StaffPermission

MAX_DAYS, MAX_MONTHS = 730, 36


def customers_report(*, days: int, months: int, now=None, direct: bool = False) -> dict:
    """Everything the page, its charts and its CSV show. The customer figures are grouped
    in the database from each order's resolved customer (``ecrm.customer_orders``); on
    databases other than PostgreSQL, in Python from the same rows. ``direct``: from every
    order resolved at query time instead (``store_orders``), what the tests and
    ``bench/customers.py`` hold the report to."""
    # In the store's time zone, as the purchases are: comparing datetimes of one zone skips
    # a UTC offset lookup per comparison.
    until = timezone.localtime(now or timezone.now())
    since = until - timedelta(days=days)
    last_month = month_of(until)
    first_month = add_months(last_month, -(months - 1))
    if connection.vendor == "postgresql" and not direct:
        summary = customer_orders.summary(since, until)
        revenue = customer_orders.revenue_by_customer(since, until)
        cohorts = customer_orders.cohort_retention(first_month=first_month, last_month=last_month, until=until)
        monthly = customer_orders.monthly_order_values(first_month=first_month, last_month=last_month, until=until)
        segments = customer_orders.sales_by_segment(since, until)
    else:
        purchases = store_orders(until=until) if direct else customer_orders.table_purchases(until=until)
        summary = customer_summary(purchases, since, until)
        revenue = revenue_by_customer(purchases, since, until)
        cohorts = cohort_retention(purchases, first_month=first_month, last_month=last_month)
        monthly = monthly_order_values(purchases, first_month=first_month, last_month=last_month)
        segments = sales_by_segment(purchases, since, until)
    countries, regions = sales_by_region(since, until)
    return {
        "since": since, "until": until, "days": days, "months": months,
        "summary": summary, "pareto": pareto(revenue),
        "cohorts": cohorts, "average_retention": average_retention(cohorts),
        "monthly": monthly, "segments": segments,
        "countries": countries, "regions": regions,
        "categories": sales_by_category(since, until),
        "price_bands": sales_by_price_band(since, until),
    }


def _money(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _rate(value) -> str:
    return "" if value is None else f"{value:.4f}"


def report_csv(report: dict) -> HttpResponse:
    """One file, one section per table (a header row each, a blank line between)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customers-{report["days"]}d.csv"'
    writer = csv.writer(response)
    s = report["summary"]
    writer.writerows([["section", "orders", "revenue", "customers", "average_order_value", "new_customers",
                       "repeat_customers", "repeat_rate"],
                      ["summary", s["orders"], _money(s["revenue"]), s["customers"],
                       _money(s["average_order_value"]), s["new_customers"], s["repeat_customers"],
                       _rate(s["repeat_rate"])], []])
    p = report["pareto"]
    writer.writerows([["section", "customers", "top_customers", "top_revenue", "revenue", "top_share", "gini"],
                      ["pareto", p["customers"], p["top_customers"], _money(p["top_revenue"]), _money(p["revenue"]),
                       _rate(p["top_share"]), _rate(p["gini"])], []])
    writer.writerow(["section", "customers_percent", "revenue_percent"])
    writer.writerows([["lorenz", point["customers"], point["revenue"]] for point in p["curve"]])
    writer.writerow([])
    writer.writerow(["section", "cohort", "customers", *(f"month_{k}" for k in range(report["months"]))])
    for row in report["cohorts"]:
        writer.writerow(["cohort_retention", f"{row['cohort']:%Y-%m}", row["customers"],
                         *(_rate(rate) for rate in row["rates"])])
    writer.writerow([])
    writer.writerow(["section", "month", "orders", "revenue", "average_order_value"])
    writer.writerows([["monthly", f"{r['month']:%Y-%m}", r["orders"], _money(r["revenue"]),
                       _money(r["average_order_value"])] for r in report["monthly"]])
    for section, key, label_fields, fields in (
            ("segment", "segments", ["segment"], ["customers", "orders", "revenue"]),
            ("country", "countries", ["country"], ["orders", "revenue"]),
            ("region", "regions", ["country", "region"], ["orders", "revenue"]),
            ("category", "categories", ["category"], ["units", "revenue", "share"]),
            ("price_band", "price_bands", ["band"], ["lines", "units", "revenue", "share"])):
        writer.writerow([])
        writer.writerow(["section", *label_fields, *fields])
        for row in report[key]:
            writer.writerow([section, *(row[f] for f in label_fields),
                             *(_money(row[f]) if f == "revenue" else _rate(row[f]) if f == "share" else row[f]
                               for f in fields)])
    return response


def _chart(report: dict) -> dict:
    latest = [row for row in report["cohorts"] if row["customers"]][-8:]
    return {
        "lorenz": [[p["customers"], p["revenue"]] for p in report["pareto"]["curve"]],
        "months": [f"{r['month']:%Y-%m}" for r in report["monthly"]],
        "aov": [None if r["average_order_value"] is None else round(float(r["average_order_value"]), 2)
                for r in report["monthly"]],
        "orders": [r["orders"] for r in report["monthly"]],
        "retention": {"labels": list(range(report["months"])),
                      "cohorts": [{"label": f"{row['cohort']:%Y-%m}",
                                   "data": [round(100 * r, 1) for r in row["rates"]]} for row in latest],
                      "average": [None if r is None else round(100 * r, 1) for r in report["average_retention"]]},
        "segments": {"labels": [r["segment"] for r in report["segments"][:12]],
                     "revenue": [round(float(r["revenue"]), 2) for r in report["segments"][:12]]},
        "countries": {"labels": [r["country"] for r in report["countries"][:12]],
                      "revenue": [round(float(r["revenue"]), 2) for r in report["countries"][:12]]},
        "categories": {"labels": [r["category"] for r in report["categories"][:12]],
                       "revenue": [round(float(r["revenue"]), 2) for r in report["categories"][:12]]},
        "bands": {"labels": [r["band"] for r in report["price_bands"]],
                  "revenue": [round(float(r["revenue"]), 2) for r in report["price_bands"]]},
    }


class CustomersReportView(StaffPermission, TemplateView):
    permission_required = "ecrm.view_customer_reports"
    template_name = "ecrm/dashboard/customers_report.html"

    def get(self, request, *args, **kwargs):
        try:
            days = requested_days(request, default=365, maximum=MAX_DAYS)
            months = requested_days(request, default=12, maximum=MAX_MONTHS, name="months")
            if request.GET.get("format", "html") not in ("html", "csv"):
                raise ReportInputError("format must be html or csv")
        except ReportInputError as exc:
            return self.render_to_response(self.get_context_data(error=str(exc), days=365, months=12), status=400)
        report = customers_report(days=days, months=months)
        if request.GET.get("format") == "csv":
            return report_csv(report)
        cohort_rows = [{**row, "cells": [{"rate": rate, "count": count,
                                          "shade": round(0.1 + 0.65 * rate, 2) if rate else 0}
                                         for rate, count in zip(row["rates"], row["retained"])]}
                       for row in report["cohorts"]]
        return self.render_to_response(self.get_context_data(
            report=report, cohort_rows=cohort_rows, days=days, months=months, chart=_chart(report),
            month_numbers=range(months)))
