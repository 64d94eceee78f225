"""Forms of the recommender's A/B testing screens: a candidate's configuration, and an
experiment's arms and split."""

from __future__ import annotations

from pathlib import Path

from django import forms

from recommender.config import DEFAULTS
from recommender.models import ModelVersion

FAMILIES = [
    ("als", "ALS (matrix factorisation, implicit)"),
    ("bpr", "BPR (Bayesian personalised ranking, implicit)"),
    ("itemknn", "Item-kNN (items bought and viewed by the same people)"),
    ("ease", "EASE (linear item-to-item model)"),
]
FACTOR_FAMILIES = {"als", "bpr"}


class CandidateForm(forms.Form):
    """A configuration given instead of the automatic search: one discovery model, and
    optionally a blend with "buy again" for the "for you" list."""

    family = forms.ChoiceField(choices=FAMILIES, initial="als")
    factors = forms.IntegerField(min_value=8, max_value=512, initial=64, required=False,
                                 help_text="Latent factors (ALS and BPR only).")
    regularization = forms.FloatField(min_value=0.0, max_value=100.0, initial=0.1, required=False,
                                      help_text="ALS and BPR only.")
    blend = forms.FloatField(min_value=0.0, max_value=1.0, initial=0.8, required=False,
                             label="Weight of buying again",
                             help_text="0 to 1: how much the 'for you' list leans on what the customer bought "
                                       "before (1: repeats first, the model fills up). Empty: the model alone.")

    def clean(self):
        data = super().clean()
        if data.get("family") in FACTOR_FAMILIES and data.get("factors") is None:
            self.add_error("factors", "ALS and BPR need a number of factors.")
        return data

    def discovery_spec(self) -> dict:
        family, data = self.cleaned_data["family"], self.cleaned_data
        if family in FACTOR_FAMILIES:
            params = {"factors": data["factors"]}
            if data.get("regularization") is not None:
                params["regularization"] = data["regularization"]
            if family == "als":
                params.update(alpha=10.0, transform="log")  # the tuned search's usual confidence weighting
            return {"kind": family, "params": params}
        if family == "ease":
            return {"kind": "ease", "params": {"lam": 500.0, "max_items": DEFAULTS["ease_max_items"]}}
        return {"kind": "itemknn", "params": {"neighbours": 100}}

    def candidate(self) -> dict:
        """Training overrides: the fixed configuration for both tasks."""
        discovery = self.discovery_spec()
        blend = self.cleaned_data.get("blend")
        following = discovery if blend is None else {
            "kind": "blend", "params": {"w": blend, "repeat": {"kind": "repeat", "params": {}}, "discovery": discovery}}
        return {"fixed": {"next": following, "new": discovery}}

    def describe(self) -> str:
        data = self.cleaned_data
        parts = [dict(FAMILIES)[data["family"]].split(" (")[0]]
        if data["family"] in FACTOR_FAMILIES:
            parts.append(f"{data['factors']} factors")
            if data.get("regularization") is not None:
                parts.append(f"regularisation {data['regularization']:g}")
        parts.append("no blend" if data.get("blend") is None else f"buy-again weight {data['blend']:g}")
        return "Candidate: " + ", ".join(parts)


def testable_versions():
    """Versions that can be an arm: trained, not failed, files still kept."""
    versions = ModelVersion.objects.exclude(status__in=[ModelVersion.FAILED, ModelVersion.SERVING]).exclude(path="")
    return [v for v in versions if Path(v.path, "model.json").exists()]


class ExperimentForm(forms.Form):
    name = forms.CharField(max_length=120)
    variant = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), empty_label=None,
                                     help_text="Tested against the serving version (the control).")
    variant_share = forms.IntegerField(min_value=1, max_value=99, initial=50, label="Variant's share of visitors (%)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].queryset = ModelVersion.objects.filter(pk__in=[v.pk for v in testable_versions()])
        self.fields["variant"].label_from_instance = lambda v: f"v{v.pk} — {v.note or v.get_status_display()}"
