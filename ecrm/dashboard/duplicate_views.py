"""Likely duplicate customers in the dashboard: review a pair, merge it or dismiss it."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from ecrm.duplicates import MergeError, likely_duplicates, not_a_duplicate, profile_merge
from ecrm.models import Profile
from tracking.dashboard.views import StaffPermission


class DuplicateListView(StaffPermission, TemplateView):
    permission_required = "ecrm.merge_profile"
    template_name = "ecrm/dashboard/duplicate_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(candidates=likely_duplicates(), **kwargs)


class MergeView(StaffPermission, TemplateView):
    """GET: the two profiles side by side; POST: merge ``remove`` into ``keep``."""

    permission_required = "ecrm.merge_profile"
    template_name = "ecrm/dashboard/merge.html"

    def _pair(self):
        return (get_object_or_404(Profile, pk=self.kwargs["first"]),
                get_object_or_404(Profile, pk=self.kwargs["second"]))

    def get_context_data(self, **kwargs):
        kwargs["first"], kwargs["second"] = self._pair()  # the URL's ids become the profiles
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        first, second = self._pair()
        keep_pk = request.POST.get("keep")
        if keep_pk not in (str(first.pk), str(second.pk)):
            messages.error(request, "Choose which profile to keep.")
            return redirect(request.path)
        keep, remove = (first, second) if keep_pk == str(first.pk) else (second, first)
        try:
            profile_merge(keep=keep, remove=remove, staff=request.user)
        except MergeError as exc:
            messages.error(request, str(exc))
            return redirect(request.path)
        messages.success(request, f"Merged {remove.person_key} into this profile; its history is here now.")
        return redirect("ecrm-dashboard:customer", pk=keep.pk)


class NotDuplicateView(StaffPermission, View):
    permission_required = "ecrm.merge_profile"

    def post(self, request, first, second):
        not_a_duplicate(first=get_object_or_404(Profile, pk=first), second=get_object_or_404(Profile, pk=second),
                        staff=request.user)
        messages.success(request, "Marked as different people; the pair will not be suggested again.")
        return redirect("ecrm-dashboard:duplicates")
