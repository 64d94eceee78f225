from django import forms

from ecrm.desk import DeskError, parse_tags
from ecrm.models import Consent, DigestSubscription


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, strip=True,
                           error_messages={"required": "Write something in the note."})


class TagsForm(forms.Form):
    tags = forms.CharField(required=False, max_length=2000, help_text="Separate tags with commas.")

    def clean_tags(self):
        try:
            return parse_tags(self.cleaned_data["tags"])
        except DeskError as exc:
            raise forms.ValidationError(str(exc)) from None


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(choices=Consent.CHANNELS)
    topic = forms.SlugField(max_length=50, initial=Consent.ALL_TOPICS,
                            help_text="newsletter, offers, … or all")
    granted = forms.TypedChoiceField(choices=[("yes", "Gives consent"), ("no", "Withdraws consent")],
                                     coerce=lambda value: value == "yes", label="The customer")
    reason = forms.CharField(max_length=200, required=False,
                             help_text="How the customer said so (phone call, e-mail, …)")


class DigestForm(forms.Form):
    """A member of staff's own KPI digest: none, daily, or weekly on a weekday."""

    frequency = forms.ChoiceField(choices=[("", "Don't send me the digest"), *DigestSubscription.FREQUENCIES],
                                  required=False, label="Send me",
                                  widget=forms.Select(attrs={"class": "form-control"}))
    weekday = forms.TypedChoiceField(choices=DigestSubscription.WEEKDAYS, coerce=int, label="Weekly on",
                                     required=False, empty_value=None,
                                     widget=forms.Select(attrs={"class": "form-control"}))

    def clean(self):
        data = super().clean()
        if data.get("frequency") == DigestSubscription.WEEKLY and data.get("weekday") is None:
            raise forms.ValidationError("Choose the weekday of the weekly digest.")
        return data
