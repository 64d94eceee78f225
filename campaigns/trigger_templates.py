"""The e-mails of the trigger kinds' ready flows, as Oscar communication event types.

Every ``"email"`` step of a registered trigger's ``flow_template`` names an event type code
(``CAMPAIGN_ABANDONED_BASKET``, ...). They are created after ``migrate`` with file templates
(``campaigns/templates/oscar/communication/emails/commtype_<code>_*``) as their wording, so
staff see them under dashboard → Content → Email templates and can override them there.
They are rendered with the context ids of ``campaigns.triggers.base`` turned into objects
(basket, products, order, customer, recommendations, voucher, occasion).
"""

from __future__ import annotations

from oscar.core.loading import get_model

from campaigns.triggers.base import triggers_all

CommunicationEventType = get_model("communication", "CommunicationEventType")


def ready_flow_templates() -> dict[str, str]:
    """Event type code -> the name staff see, for every e-mail of every ready flow."""
    found = {}
    for trigger in triggers_all():
        emails = [step["template"] for step in trigger.flow_template
                  if step.get("action") == "email" and not step["template"].startswith("design:")]
        for number, code in enumerate(emails, start=1):
            found.setdefault(code, f"{trigger.label} ({number} of {len(emails)})" if len(emails) > 1
                             else trigger.label)
    return found


def event_types_ensure(**kwargs) -> None:
    """``post_migrate``: an event type per ready-flow e-mail (existing ones are left as staff made them)."""
    for code, name in ready_flow_templates().items():
        CommunicationEventType.objects.get_or_create(
            code=code, defaults={"name": f"Campaign: {name}", "category": CommunicationEventType.USER_RELATED})
