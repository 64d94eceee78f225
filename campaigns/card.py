"""The customer card's "Campaign messages" tab (registered in ECRM_CARD_TABS by the shop):
every outbox message to the customer, with its state: queued or deferred (and why), sent,
not sent by policy (no consent, suppressed) or a dead letter. Sent ones also show on the
card's "Messages" tab, which lists Oscar's e-mail records."""

from campaigns.models import Message, Suppression


def outbox_tab(profile, request) -> dict:
    emails = {e.lower() for e in (profile.email,) if e}
    return {"outbox_messages": Message.objects.filter(person_key=profile.person_key)[:100],
            "suppressions": Suppression.objects.filter(email__in=emails)}


outbox_tab.name = "campaign-messages"
outbox_tab.label = "Campaign messages"
outbox_tab.template_name = "campaigns/card_tab.html"
