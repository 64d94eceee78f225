"""The preference centre's campaigns part, in the customer's account: how often marketing may
come, and a pause. (Which channels and topics: ecrm's consent page, on the same screen.)"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView

from campaigns.models import ContactPreference

PAUSES = [("", "Do not pause"), ("14", "Pause for 2 weeks"), ("30", "Pause for a month"),
          ("90", "Pause for 3 months"), ("resume", "Resume now")]


class FrequencyForm(forms.Form):
    frequency = forms.ChoiceField(choices=ContactPreference.FREQUENCIES, label="How often may we e-mail you offers and news?")
    pause = forms.ChoiceField(choices=PAUSES, required=False, label="Take a break")


def preference_of(user) -> ContactPreference | None:
    return ContactPreference.objects.filter(person_key=str(user.pk)).first()


def preference_set(*, person_key: str, frequency: str, pause: str, now=None) -> ContactPreference:
    now = now or timezone.now()
    preference, _created = ContactPreference.objects.get_or_create(person_key=person_key)
    preference.frequency = frequency
    if pause == "resume":
        preference.paused_until = None
    elif pause:
        preference.paused_until = now + timedelta(days=int(pause))
    preference.save()
    return preference


class FrequencyView(LoginRequiredMixin, FormView):
    """Shown on the communication preferences page (shop template); posts here."""

    form_class = FrequencyForm
    http_method_names = ["post"]

    def form_valid(self, form):
        preference = preference_set(person_key=str(self.request.user.pk), frequency=form.cleaned_data["frequency"],
                                    pause=form.cleaned_data["pause"])
        text = f"Saved: {preference.get_frequency_display().lower()}"
        if preference.paused_until:
            text += f", no offers or news until {preference.paused_until:%d %B %Y}"
        messages.success(self.request, text + ".")
        return redirect(reverse("ecrm:communication-preferences"))

    def form_invalid(self, form):
        messages.error(self.request, "Choose how often, and a break from the list offered.")
        return redirect(reverse("ecrm:communication-preferences"))
