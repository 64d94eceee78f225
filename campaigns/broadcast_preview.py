"""A broadcast's e-mail previewed as one of its recipients, and sent as a test to staff —
before it is scheduled, as in Klaviyo's "preview and test".

The preview renders exactly what delivery renders (``campaigns.rendering.render``: the
broadcast's template, the recipient's profile, their own recommendations, the unsubscribe
link) for a message that is never saved: no outbox row, so nothing is counted in the
broadcast's results, no consent or frequency cap applies, no opens or clicks are tracked
(the message has no campaign, so no pixel or redirects) and — the ``preview`` flag in its
context — no recommendation impressions are counted. A test goes straight to
EMAIL_BACKEND, only to a staff address, marked ``[Test]`` and with ``X-Campaigns-Test``; its
unsubscribe link is the sender's own, so clicking it in a test cannot unsubscribe the
customer it was rendered for.
"""

from __future__ import annotations

import uuid

from campaigns.design_preview import TEST_HEADER, staff_address_ok
from campaigns.models import Broadcast, Message
from campaigns.rendering import build_email, render
from campaigns.tokens import unsubscribe_url


def preview_message(broadcast: Broadcast, profile) -> Message:
    """The (unsaved) message the broadcast would send this customer."""
    return Message(key=f"preview:broadcast:{broadcast.pk}:{profile.person_key}"[:255], source_kind="broadcast",
                   source_id=str(broadcast.pk), campaign="", kind=Message.MARKETING, channel=Message.EMAIL,
                   topic=broadcast.topic, person_key=profile.person_key, user=profile.user,
                   to_email=profile.email, template=broadcast.template,
                   context={"broadcast_id": broadcast.pk, "preview": True})


def broadcast_preview(broadcast: Broadcast, profile) -> dict:
    """{"subject", "text", "html", "unsubscribe_url"} as this customer would get it
    (``campaigns.rendering.RenderError`` when the template cannot be rendered)."""
    return render(preview_message(broadcast, profile))


def broadcast_test_send(*, broadcast: Broadcast, profile, to_email: str, sender) -> dict:
    """Render the broadcast for ``profile`` and send it now to ``to_email`` (a staff address)."""
    if not staff_address_ok(to_email):
        raise ValueError(f"{to_email} is not the address of a member of staff: tests go only to staff")
    rendered = broadcast_preview(broadcast, profile)
    theirs = rendered["unsubscribe_url"]
    own = unsubscribe_url(person_key=str(sender.pk), channel=Message.EMAIL, topic=broadcast.topic or "all")

    def swap(text: str) -> str:
        return text.replace(theirs, own) if theirs else text

    rendered = {"subject": f"[Test] {rendered['subject']}"[:255], "text": swap(rendered["text"]),
                "html": swap(rendered["html"]), "unsubscribe_url": own}
    email = build_email(Message(key=f"test:broadcast:{broadcast.pk}:{uuid.uuid4().hex}", to_email=to_email.strip()),
                        rendered)
    email.extra_headers[TEST_HEADER] = (f"broadcast {broadcast.pk} ({broadcast.name}), rendered for "
                                        f"{profile.email}, sent by {sender.email}")
    email.send()
    return rendered
