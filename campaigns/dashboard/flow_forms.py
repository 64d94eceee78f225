"""Forms of the flow screens: a flow's settings (with its trigger's own parameters as
fields) and one step (the fields of every kind; only the chosen kind's are used)."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from oscar.core.loading import get_model

from campaigns.flow_models import Flow, FlowEnrolment, FlowStep
from campaigns.flows.validation import step_label, step_problems
from campaigns.triggers.base import Trigger

TARGET_HELP = "where the customer goes after this step"


def _styled(form: forms.Form) -> None:
    """Bootstrap's look, as Oscar's own dashboard forms have."""
    for field in form.fields.values():
        if not isinstance(field.widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
            field.widget.attrs.setdefault("class", "form-control")


def _param_field(param) -> forms.Field:
    common = {"label": param.label, "help_text": param.help, "required": False, "initial": param.default}
    if param.kind == "int":
        return forms.IntegerField(min_value=param.min, max_value=param.max, **common)
    if param.kind == "float":
        return forms.FloatField(min_value=param.min, max_value=param.max, **common)
    if param.kind == "bool":
        return forms.BooleanField(**common)
    if param.kind == "choice":
        return forms.ChoiceField(choices=list(param.choices), **common)
    if param.kind == "segment":
        from ecrm.models import Segment

        return forms.TypedChoiceField(choices=[("", "—")] + [(s.pk, s.name) for s in Segment.objects.all()],
                                      coerce=int, empty_value=None, **common)
    if param.kind == "product_class":
        ProductClass = get_model("catalogue", "ProductClass")
        return forms.ChoiceField(choices=[("", "—")] + [(c.slug, c.name) for c in ProductClass.objects.all()],
                                 **common)
    return forms.CharField(max_length=200, **common)


class FlowSettingsForm(forms.ModelForm):
    holdout_percent = forms.FloatField(label="Holdout (%)", min_value=0, max_value=99,
                                       help_text="customers kept out at random, who receive nothing: the flow's "
                                                 "results are compared with theirs")
    exits = forms.MultipleChoiceField(choices=Flow.EXITS, required=False, widget=forms.CheckboxSelectMultiple,
                                      label="Take a customer out of the flow at once when")

    class Meta:
        model = Flow
        fields = ["name", "topic", "reentry", "reentry_days"]
        labels = {"topic": "Consent topic", "reentry": "Customers may enter again",
                  "reentry_days": "Not within (days) of their last entry"}

    def __init__(self, *args, trigger: Trigger | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.trigger = trigger
        self.fields["holdout_percent"].initial = round(self.instance.holdout_share * 100, 2)
        self.fields["exits"].initial = list(self.instance.exits or [])
        for param in trigger.params if trigger else ():
            field = _param_field(param)
            field.initial = (self.instance.trigger_settings or {}).get(param.name, param.default)
            self.fields[f"trigger_{param.name}"] = field
        _styled(self)

    def trigger_fields(self):
        return [self[name] for name in self.fields if name.startswith("trigger_")]

    def clean(self):
        data = super().clean()
        if self.trigger is not None:
            values = {p.name: data.get(f"trigger_{p.name}") for p in self.trigger.params}
            try:
                data["trigger_settings"] = self.trigger.settings_clean(values)
            except ValidationError as exc:
                raise ValidationError(f"Trigger settings: {' '.join(exc.messages)}") from None
        return data

    def save(self, commit=True):
        flow = super().save(commit=False)
        flow.holdout_share = self.cleaned_data["holdout_percent"] / 100
        flow.exits = list(self.cleaned_data["exits"])
        if "trigger_settings" in self.cleaned_data:
            flow.trigger_settings = self.cleaned_data["trigger_settings"]
        if commit:
            flow.save()
        return flow


class StepForm(forms.Form):
    kind = forms.ChoiceField(choices=FlowStep.KINDS, label="What this step does")
    wait_hours = forms.FloatField(min_value=0, initial=0, label="Wait first (hours)",
                                  help_text="counted from the previous step (the first: from when the trigger fired)")
    template = forms.CharField(required=False, max_length=128, label="E-mail template",
                               help_text="an e-mail template's code (Dashboard → Content → Email templates), "
                                         "or design:<slug>")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="SMS text",
                           help_text="e.g. Hi {{ customer.first_name }}, your basket is waiting: {{ voucher.code }}")
    percent = forms.DecimalField(required=False, min_value=0, max_value=100, label="Voucher: percent off")
    amount = forms.DecimalField(required=False, min_value=0, label="Voucher: or an amount off")
    valid_days = forms.IntegerField(required=False, min_value=1, max_value=366, initial=14,
                                    label="Voucher: valid for (days)")
    tag_action = forms.ChoiceField(required=False, choices=[("add", "Add the tag"), ("remove", "Remove the tag")],
                                   label="Tag")
    tag = forms.CharField(required=False, max_length=50, label="Tag name")
    url = forms.URLField(required=False, label="Webhook address", assume_scheme="https",
                         help_text="receives a POST of JSON: flow, step, person_key, window, context, e-mail")
    segment = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Condition: is in segment")
    rule = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           label="Condition: or a rule (as in segments)",
                           help_text='e.g. {"attribute": "order_count", "op": "gte", "value": 1} or '
                                     '{"event": "Product Viewed", "op": "gte", "count": 3, "within_days": 7}')
    next_target = forms.ChoiceField(required=False, label="Then go to (a condition: if it holds)", help_text=TARGET_HELP)
    else_target = forms.ChoiceField(required=False, label="Condition: if it does not hold, go to")

    def __init__(self, *args, flow: Flow, step: FlowStep | None = None, **kwargs):
        from ecrm.models import Segment

        if step is not None and "initial" not in kwargs:
            kwargs["initial"] = step_initial(step)
        super().__init__(*args, **kwargs)
        targets = [(FlowStep.NEXT, "the following step"), (FlowStep.END, "the end of the flow")]
        for number, other in enumerate(flow.steps_in_order(), start=1):
            if step is None or other.pk != step.pk:
                targets.append((str(other.pk), step_label(other, number).capitalize()))
        self.fields["next_target"].choices = targets
        self.fields["else_target"].choices = targets
        self.fields["segment"].choices = [("", "—")] + [(s.pk, s.name) for s in Segment.objects.all()]
        CommunicationEventType = get_model("communication", "CommunicationEventType")
        from campaigns.designs_models import EmailDesign

        # Oscar's e-mail templates and the published Wagtail e-mail designs (design:<slug>).
        self.template_codes = list(CommunicationEventType.objects.order_by("code").values_list("code", "name")) + [
            (f"design:{slug}", f"E-mail design: {name}")
            for slug, name in EmailDesign.objects.filter(live=True).order_by("name").values_list("slug", "name")]
        _styled(self)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        config: dict = {}
        if kind == FlowStep.EMAIL:
            config = {"template": (data.get("template") or "").strip()}
        elif kind == FlowStep.SMS:
            config = {"text": (data.get("text") or "").strip()}
        elif kind == FlowStep.VOUCHER:
            config = {"valid_days": data.get("valid_days")}
            if data.get("percent") is not None:
                config["percent"] = float(data["percent"])
            if data.get("amount") is not None:
                config["amount"] = float(data["amount"])
        elif kind == FlowStep.TAG:
            config = {data.get("tag_action") or "add": (data.get("tag") or "").strip()}
        elif kind == FlowStep.WEBHOOK:
            config = {"url": data.get("url") or ""}
        elif kind == FlowStep.CONDITION:
            if data.get("segment"):
                config = {"segment_id": data["segment"]}
            elif (data.get("rule") or "").strip():
                try:
                    config = {"rule": json.loads(data["rule"])}
                except json.JSONDecodeError as exc:
                    raise ValidationError(f"The rule is not valid JSON: {exc.msg} (line {exc.lineno}, "
                                          f"column {exc.colno}).") from None
        problems = step_problems(kind, config, data.get("wait_hours") or 0) if kind else []
        if problems:
            raise ValidationError([p[0].upper() + p[1:] + "." for p in problems])
        if kind == FlowStep.EMAIL and config["template"] not in {code for code, _name in self.template_codes}:
            if config["template"].startswith("design:"):
                raise ValidationError(f"There is no published e-mail design {config['template'][7:]!r}.")
            raise ValidationError(f"There is no e-mail template {config['template']!r}.")
        data["config"] = config
        return data


def step_initial(step: FlowStep) -> dict:
    config = step.config or {}
    initial = {"kind": step.kind, "wait_hours": step.wait_hours, "next_target": step.next_target,
               "else_target": step.else_target, "template": config.get("template", ""),
               "text": config.get("text", ""), "percent": config.get("percent"), "amount": config.get("amount"),
               "valid_days": config.get("valid_days", 14), "url": config.get("url", ""),
               "segment": config.get("segment_id"),
               "rule": json.dumps(config["rule"], indent=1) if config.get("rule") else ""}
    if "remove" in config:
        initial.update(tag_action="remove", tag=config["remove"])
    else:
        initial.update(tag_action="add", tag=config.get("add", ""))
    return initial


class EnrolmentFilter(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *FlowEnrolment.STATUSES,
                                                        ("held_out", "Held out")])
    q = forms.CharField(required=False, max_length=254, label="Customer (person key)")
