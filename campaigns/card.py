"""The customer card's "Campaign messages" tab (registered in ECRM_CARD_TABS by the shop):
every outbox message to the customer, with its state: queued or deferred (and why), sent,
not sent by policy (no consent, suppressed) or a dead letter, and whether it was opened and
how many of its links were clicked. Sent ones also show on the card's "Messages" tab, which
lists Oscar's e-mail records; opens, clicks and unsubscribes are on the timeline as events."""

from django.db.models import Count, Q

from campaigns.models import Message, Suppression


def outbox_tab(profile, request) -> dict:
    emails = {e.lower() for e in (profile.email,) if e}
    mine = Q(person_key=profile.person_key) | (Q(to_email__iexact=profile.email) if profile.email else Q(pk__in=[]))
    messages = (Message.objects.filter(mine).select_related("opened")
                .annotate(click_count=Count("clicks", filter=Q(clicks__automated=False))))
    return {"outbox_messages": messages[:100],
            "suppressions": Suppression.objects.filter(email__in=emails)}


outbox_tab.name = "campaign-messages"
outbox_tab.label = "Campaign messages"
outbox_tab.template_name = "campaigns/card_tab.html"
