"""The customer card's "Campaign messages" tab (registered in ECRM_CARD_TABS by the shop):
every outbox message to the customer, with its state: queued or deferred (and why), sent,
not sent by policy (no consent, suppressed) or a dead letter. Sent ones also show on the
card's "Messages" tab, which lists Oscar's e-mail records."""

from django.db.models import Q

from campaigns.models import Message, Suppression


def outbox_tab(profile, request) -> dict:
    emails = {e.lower() for e in (profile.email,) if e}
    mine = Q(person_key=profile.person_key) | (Q(to_email__iexact=profile.email) if profile.email else Q(pk__in=[]))
    return {"outbox_messages": Message.objects.filter(mine)[:100],
            "suppressions": Suppression.objects.filter(email__in=emails)}


outbox_tab.name = "campaign-messages"
outbox_tab.label = "Campaign messages"
outbox_tab.template_name = "campaigns/card_tab.html"
