"""Staff choose whether they receive the KPI digest (daily or weekly) and preview it."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.generic import TemplateView

from ecrm.dashboard.forms import DigestForm
from ecrm.defaults import setting
from ecrm.digest import digest_content, recipients
from ecrm.models import DigestSubscription
from tracking.dashboard.views import StaffPermission


class DigestSettingsView(StaffPermission, TemplateView):
    """Only staff who may see the reports may subscribe (the sender checks again)."""

    permission_required = "ecrm.view_customer_reports"
    template_name = "ecrm/dashboard/digest.html"

    def get_context_data(self, **kwargs):
        subscription = DigestSubscription.objects.filter(user=self.request.user).first()
        initial = ({"frequency": subscription.frequency, "weekday": subscription.weekday} if subscription
                   else {"weekday": setting("ECRM_DIGEST_DEFAULT_WEEKDAY")})
        today = timezone.localdate()
        previews = {frequency: digest_content(frequency, today) for frequency in ("daily", "weekly")}
        return super().get_context_data(
            form=kwargs.pop("form", None) or DigestForm(initial=initial), subscription=subscription,
            previews=previews, send_hour=setting("ECRM_DIGEST_SEND_HOUR"), has_email=bool(self.request.user.email),
            recipients=recipients() if self.request.user.is_superuser else None, **kwargs)

    def post(self, request, *args, **kwargs):
        form = DigestForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        frequency = form.cleaned_data["frequency"]
        if not frequency:
            DigestSubscription.objects.filter(user=request.user).delete()
            messages.success(request, "You will no longer receive the KPI digest.")
        elif not request.user.email:
            form.add_error(None, "Your account has no e-mail address to send the digest to.")
            return self.render_to_response(self.get_context_data(form=form), status=400)
        else:
            weekday = form.cleaned_data["weekday"]
            DigestSubscription.objects.update_or_create(
                user=request.user, defaults={"frequency": frequency, "weekday": 0 if weekday is None else weekday})
            messages.success(request, f"You will receive the {frequency} KPI digest at {request.user.email}.")
        return redirect("ecrm-dashboard:digest")
