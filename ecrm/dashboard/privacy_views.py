"""The customer card's data-subject requests: download everything held on a customer, and
erase them. Both are sensitive (one person's whole file leaves the shop, or goes for
good), so each has its own permission and every use goes to the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import View

from ecrm.dashboard.views import _profile
from ecrm.desk import access_record
from ecrm.models import ProfileAccess
from ecrm.privacy import PrivacyError, customer_erase, customer_export, erasure_plan
from tracking.dashboard.views import StaffPermission


class CustomerExportView(StaffPermission, View):
    """One customer's ZIP archive (GET: a download changes nothing but the audit log)."""

    permission_required = "ecrm.export_profile"

    def get(self, request, pk):
        profile = _profile(pk)
        data = customer_export(profile)
        access_record(profile=profile, staff=request.user, action=ProfileAccess.EXPORT,
                      detail=f"{len(data)} bytes")
        response = HttpResponse(data, content_type="application/zip")
        # The file name carries the profile's number only: downloads folders are not private.
        response["Content-Disposition"] = f'attachment; filename="customer-{profile.pk}.zip"'
        return response


class CustomerEraseView(StaffPermission, View):
    """GET: what erasure would remove, with a confirmation form. POST (CSRF-protected, with
    the box ticked): erase, then back to the support desk, as the card is gone."""

    permission_required = "ecrm.erase_profile"
    template_name = "ecrm/dashboard/customer_erase.html"

    def get(self, request, pk):
        profile = _profile(pk)
        access_record(profile=profile, staff=request.user, action=ProfileAccess.VIEW, detail="erase: confirm")
        return render(request, self.template_name, {"profile": profile, "plan": erasure_plan(profile)})

    def post(self, request, pk):
        profile = _profile(pk)
        card = reverse("ecrm-dashboard:customer", kwargs={"pk": profile.pk})
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm the erasure.")
            return redirect(reverse("ecrm-dashboard:customer-erase", kwargs={"pk": profile.pk}))
        try:
            counts = customer_erase(profile, staff=request.user)
        except PrivacyError as error:
            messages.error(request, str(error))
            return redirect(card)
        messages.success(request, f"Customer erased ({sum(counts.values())} rows deleted or scrubbed).")
        return redirect("ecrm-dashboard:customer-search")
