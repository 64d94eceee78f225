"""Opens, clicks and unsubscribes as tracking events on the customer's timeline, named as in
Segment's Email spec: "Email Opened", "Email Link Clicked", "Unsubscribed".

The facts themselves are kept by ``campaigns.engagement`` (``MessageOpen``,
``MessageClick``) and ecrm's consent ledger; these events put them where the rest of a
customer's behaviour is — the 360° card's timeline, segment rules on events, the
recommender's and analytics' event readers — attributed to the customer by their person key
(a user id, or ``email:<address>`` for a guest, as tracking's identity graph keys people).

Deduplication: the tracking event's ``messageId`` is derived from the fact
(``email-opened-<message>``, ``email-clicked-<message>-<link digest>``), so however often a
pixel is fetched or a link clicked, the customer's timeline gets one event per message
(per link for clicks) — the same rule the counts in the results use. Clicks by known link
scanners are not events at all (nobody clicked).

No personal data goes into the event beyond the person key it is filed under: the link's
query string (which may carry the recommender's signed ``ecrm_token``) is dropped from
``link_url``, and no address is copied into the properties.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.utils import timezone

from campaigns.engagement import url_digest


def _email_properties(message) -> dict:
    from campaigns.results import campaign_name

    properties = {"email_id": str(message.pk), "email_subject": message.subject or "",
                  "campaign_id": message.campaign or "", "source": message.source_kind or ""}
    if message.campaign:
        properties["campaign_name"] = campaign_name(message.campaign)[0]
    return properties


def _record(event: str, *, person_key: str, properties: dict, message_id: str) -> None:
    from tracking.services import event_record

    if person_key:
        event_record(event=event, properties=properties, user_id=person_key, message_id=message_id,
                     timestamp=timezone.now(), context={"channel": "server"})


def link_without_query(url: str) -> str:
    """scheme://host/path: where the link led, without its query string or fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def email_opened_event(*, message, automated: bool) -> None:
    """The message's "Email Opened" (once per message: later fetches of the pixel collapse
    into the first event). ``automated``: fetched by a mail proxy or prefetcher."""
    properties = {**_email_properties(message), "automated": automated}
    _record("Email Opened", person_key=message.person_key, properties=properties,
            message_id=f"email-opened-{message.pk}")


def email_link_clicked_event(*, message, url: str) -> None:
    """"Email Link Clicked", once per message and link."""
    digest = url_digest(url)
    properties = {**_email_properties(message), "link_id": digest, "link_url": link_without_query(url)}
    _record("Email Link Clicked", person_key=message.person_key, properties=properties,
            message_id=f"email-clicked-{message.pk}-{digest}")


def unsubscribed_event(*, person_key: str, channel: str, topic: str, source: str, at=None) -> None:
    """"Unsubscribed" from ``topic`` ("all": all marketing) on ``channel``; one event per
    customer, channel, topic and minute (a mailbox provider's one-click POST and the
    customer's own click on the page a moment later are one unsubscribe)."""
    at = at or timezone.now()
    _record("Unsubscribed", person_key=person_key,
            properties={"channel": channel, "list_id": topic, "topic": topic, "source": source},
            message_id=f"unsubscribed-{url_digest(f'{person_key}|{channel}|{topic}')}-{at:%Y%m%d%H%M}")
