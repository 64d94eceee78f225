"""Everything that keeps a flow from being activated, as messages for the marketer: its
shape (``graph``), each step's settings, its trigger's settings, templates that exist.

A step's ``config`` by kind::

    wait       {}
    condition  {"rule": <an ecrm segment rule>}   or   {"segment_id": 12}
    email      {"template": "<Oscar communication event type code>" | "design:<slug>"}
    sms        {"text": "Hi {{ customer.first_name }}, ..."}     (a Django template)
    voucher    {"percent": 10} or {"amount": 5}, "valid_days": 14, "min_items": 1
    tag        {"add": "VIP"} or {"remove": "VIP"}
    webhook    {"url": "https://..."}

Conditions use ecrm's segment rule language (``ecrm.segment_rules``: attributes, events,
orders, consent, tags), so a marketer writes one kind of rule everywhere.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.template import Template, TemplateSyntaxError

from campaigns.flows import graph

DESIGN = re.compile(r"^design:[-a-z0-9_]{1,100}$")
MAX_WAIT_HOURS = 24 * 366


def step_problems(kind: str, config: dict, wait_hours: float = 0) -> list[str]:
    """What is wrong with one step's settings (no database)."""
    from ecrm.segment_rules import RuleError, validate

    found = []
    config = config if isinstance(config, dict) else {}
    if not isinstance(wait_hours, (int, float)) or not 0 <= wait_hours <= MAX_WAIT_HOURS:
        found.append(f"the wait must be from 0 to {MAX_WAIT_HOURS} hours")
    if kind == "condition":
        if "segment_id" in config and config.get("segment_id") not in (None, ""):
            if not str(config["segment_id"]).isdigit():
                found.append("choose the segment the condition checks")
        elif "rule" in config and config["rule"]:
            try:
                validate(config["rule"])
            except RuleError as exc:
                found.append(f"its rule is not valid: {exc}")
        else:
            found.append("a condition needs a rule or a segment to check")
    elif kind == "email":
        template = str(config.get("template") or "").strip()
        if not template:
            found.append("it sends an e-mail but names no template")
        elif template.startswith("design:") and not DESIGN.match(template):
            found.append(f"{template!r} is not a design name (design:<slug>)")
    elif kind == "sms":
        text = str(config.get("text") or "").strip()
        if not text:
            found.append("it sends an SMS but has no text")
        else:
            try:
                Template(text)
            except TemplateSyntaxError as exc:
                found.append(f"its SMS text is not a valid template: {exc}")
    elif kind == "voucher":
        percent, amount = config.get("percent"), config.get("amount")
        if (percent in (None, "")) == (amount in (None, "")):
            found.append("a voucher gives either a percentage or an amount off")
        elif percent not in (None, "") and not (_number(percent) and 0 < float(percent) <= 100):
            found.append("the voucher's percentage must be above 0 and at most 100")
        elif amount not in (None, "") and not (_number(amount) and float(amount) > 0):
            found.append("the voucher's amount must be above 0")
        days = config.get("valid_days")
        if not (isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= 366):
            found.append("the voucher must expire after 1 to 366 days (valid_days)")
    elif kind == "tag":
        add, remove = str(config.get("add") or "").strip(), str(config.get("remove") or "").strip()
        if bool(add) == bool(remove):
            found.append("a tag step adds a tag or removes one: name exactly one")
        elif len(add or remove) > 50 or "," in (add or remove):
            found.append("a tag is at most 50 characters, without commas")
    elif kind == "webhook":
        url = urlparse(str(config.get("url") or ""))
        if url.scheme not in ("http", "https") or not url.netloc:
            found.append("a webhook needs an http:// or https:// address")
    elif kind != "wait":
        found.append(f"unknown kind of step {kind!r}")
    return found


def _number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def step_label(step, number: int) -> str:
    return f"step {number} ({step.get_kind_display().lower()})"


def flow_problems(flow) -> list[str]:
    """Every reason this flow cannot be activated ([] when it can)."""
    from oscar.core.loading import get_model

    from campaigns.designs_models import EmailDesign
    from campaigns.triggers.base import trigger_get
    from ecrm.models import Segment

    CommunicationEventType = get_model("communication", "CommunicationEventType")
    found = []
    try:
        trigger = trigger_get(flow.trigger_kind)
    except LookupError:
        found.append(f"Its trigger {flow.trigger_kind!r} is not installed (CAMPAIGNS_TRIGGER_MODULES).")
        trigger = None
    if trigger is not None:
        try:
            trigger.settings_clean(flow.trigger_settings)
        except ValidationError as exc:
            found.append(f"Trigger settings: {' '.join(exc.messages)}")
        if not trigger.transactional and not flow.topic.strip():
            found.append("Name the consent topic its messages are sent under (e.g. offers).")
    if not 0 <= flow.holdout_share < 1:
        found.append("The holdout must be from 0 % to below 100 %.")
    unknown = set(flow.exits or []) - {code for code, _label in flow.EXITS}
    if unknown:
        found.append(f"Unknown exit condition(s): {', '.join(sorted(unknown))}.")
    steps = flow.steps_in_order()
    labels = {str(step.pk): step_label(step, number) for number, step in enumerate(steps, start=1)}
    found += graph.problems([{"id": s.pk, "kind": s.kind, "next": s.next_target, "else": s.else_target}
                             for s in steps], labels)
    codes = {s.config.get("template") for s in steps if s.kind == "email"}
    existing = set(CommunicationEventType.objects.filter(code__in=codes - {None}).values_list("code", flat=True))
    designs = {t[len("design:"):] for t in codes if t and str(t).startswith("design:")}
    published = set(EmailDesign.objects.filter(slug__in=designs, live=True).values_list("slug", flat=True))
    for step in steps:
        label = labels[str(step.pk)].capitalize()
        found += [f"{label}: {problem}." for problem in step_problems(step.kind, step.config, step.wait_hours)]
        template = str(step.config.get("template") or "")
        if step.kind == "email" and template and not template.startswith("design:") and template not in existing:
            found.append(f"{label}: there is no e-mail template {template!r} "
                         "(Dashboard → Content → Email templates).")
        if step.kind == "email" and DESIGN.match(template) and template[len("design:"):] not in published:
            found.append(f"{label}: there is no published e-mail design {template[len('design:'):]!r} "
                         "(Wagtail → Snippets → E-mail designs).")
        segment = step.config.get("segment_id") if step.kind == "condition" else None
        if segment not in (None, "") and str(segment).isdigit() and not Segment.objects.filter(pk=segment).exists():
            found.append(f"{label}: the segment it checks no longer exists.")
    return found
