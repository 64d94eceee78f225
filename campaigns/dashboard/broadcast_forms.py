"""Forms of the broadcast screens: what to send to whom, and when."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from oscar.core.loading import get_model

from campaigns.models import Broadcast

CommunicationEventType = get_model("communication", "CommunicationEventType")
DESIGN = re.compile(r"^design:[-a-z0-9_]{1,100}$")
TOPIC = re.compile(r"^[a-z0-9_-]{1,50}$")


class BroadcastForm(forms.ModelForm):
    holdout_percent = forms.DecimalField(label="Holdout (%)", min_value=0, max_value=50, decimal_places=1,
                                         help_text="share of the audience left out to measure the lift")

    class Meta:
        model = Broadcast
        fields = ["name", "segment", "template", "topic", "attribution_days", "cost"]
        labels = {"template": "E-mail template", "topic": "Consent topic", "attribution_days": "Attribution window (days)"}
        help_texts = {"template": 'an e-mail template code (Dashboard → Content → Email templates) or "design:<slug>"',
                      "topic": "recipients need e-mail consent for this topic (or all marketing)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holdout_percent"].initial = round(100 * (self.instance.holdout_share
                                                              if self.instance.pk else Broadcast().holdout_share), 1)
        self.fields["attribution_days"].widget.attrs.update(min=1, max=90)
        self.fields["cost"].widget.attrs.update(min=0, step="0.01")
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def clean_template(self):
        code = self.cleaned_data["template"].strip()
        if DESIGN.match(code) or CommunicationEventType.objects.filter(code=code).exists():
            return code
        raise forms.ValidationError(f"No e-mail template with code {code!r} (see Dashboard → Content → Email "
                                    'templates), and not a "design:<slug>".')

    def clean_topic(self):
        topic = self.cleaned_data["topic"].strip().lower()
        if not TOPIC.match(topic):
            raise forms.ValidationError("A topic is a short lower-case name such as newsletter or offers.")
        return topic

    def clean_attribution_days(self):
        days = self.cleaned_data["attribution_days"]
        if not 1 <= days <= 90:
            raise forms.ValidationError("Choose from 1 to 90 days.")
        return days

    def clean_cost(self):
        cost = self.cleaned_data["cost"]
        if cost < 0:
            raise forms.ValidationError("A cost cannot be negative.")
        return cost

    def save(self, commit=True):
        self.instance.holdout_share = float(self.cleaned_data["holdout_percent"]) / 100
        return super().save(commit)


class ScheduleForm(forms.Form):
    NOW, AT, LOCAL = "now", "at", "local"
    when = forms.ChoiceField(choices=[(NOW, "Send now"), (AT, "At a date and time"),
                                      (LOCAL, "At this clock time in each recipient's time zone")],
                             widget=forms.RadioSelect, initial=NOW)
    send_at = forms.DateTimeField(required=False, label="Date and time (the store's time zone)",
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}))

    def clean(self):
        data = super().clean()
        when, send_at = data.get("when"), data.get("send_at")
        if when in (self.AT, self.LOCAL):
            if send_at is None:
                raise forms.ValidationError("Give the date and time to send at.")
            if when == self.AT and send_at < timezone.now():
                raise forms.ValidationError("That moment has passed: choose a later one, or send now.")
        return data
