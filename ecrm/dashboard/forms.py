from django import forms

from ecrm.desk import DeskError, parse_tags
from ecrm.models import CampaignCost, Consent, DigestSubscription


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


class CampaignCostForm(forms.ModelForm):
    """What a campaign cost over a period (the ROI report's denominator)."""

    class Meta:
        model = CampaignCost
        fields = ["campaign", "starts_on", "ends_on", "cost", "note"]
        widgets = {"starts_on": forms.DateInput(attrs={"type": "date"}),
                   "ends_on": forms.DateInput(attrs={"type": "date"})}
        labels = {"starts_on": "From", "ends_on": "To (inclusive)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"

    def clean_cost(self):
        cost = self.cleaned_data["cost"]
        if cost is not None and cost < 0:
            raise forms.ValidationError("A cost cannot be negative.")
        return cost

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise forms.ValidationError("The period ends before it starts.")
        return data
