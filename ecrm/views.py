"""The customer's own side: communication preferences in Oscar's account area, where
withdrawing consent is as easy as giving it (one checkbox each, one save)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.views.generic import FormView

from ecrm.consents import consent_record, has_consent
from ecrm.defaults import setting
from ecrm.models import Consent, Profile
from ecrm.services import profiles_refresh
from tracking.messages import truncate_ip


def _choices():
    return [(channel, label, topic, topic_label) for channel, label in Consent.CHANNELS
            for topic, topic_label in setting("ECRM_CONSENT_TOPICS")]


class PreferencesForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for channel, label, topic, topic_label in _choices():
            self.fields[f"{channel}_{topic}"] = forms.BooleanField(required=False, label=f"{topic_label} by {label}")


class CommunicationPreferencesView(LoginRequiredMixin, FormView):
    template_name = "ecrm/account/communication_preferences.html"
    form_class = PreferencesForm

    def profile(self) -> Profile:
        key = str(self.request.user.pk)
        profile = Profile.objects.filter(person_key=key).first()
        if profile is None:  # registered moments ago: their profile is not refreshed yet
            profiles_refresh(person_keys={key})
            profile = Profile.objects.get(person_key=key)
        return profile

    def get_initial(self):
        profile = self.profile()
        return {f"{channel}_{topic}": has_consent(profile, channel, topic) for channel, _l, topic, _t in _choices()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(active_tab="communication", page_title="Communication preferences", **kwargs)

    def form_valid(self, form):
        profile, changed = self.profile(), 0
        evidence = {"page": self.request.path, "ip": truncate_ip(self.request.META.get("REMOTE_ADDR", "")),
                    "userAgent": self.request.META.get("HTTP_USER_AGENT", "")[:300]}
        for channel, _label, topic, _topic_label in _choices():
            wanted = form.cleaned_data[f"{channel}_{topic}"]
            if wanted != has_consent(profile, channel, topic):
                consent_record(profile=profile, channel=channel, topic=topic, granted=wanted, source="account",
                               evidence=evidence)
                changed += 1
        messages.success(self.request, "Your preferences are saved." if changed else "Nothing changed.")
        return redirect(self.request.path)
