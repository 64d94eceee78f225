"""Signed links in messages: one-click unsubscribe and the order-status page.

Both work without login, so the token is the credential: signed with SECRET_KEY under its
own salt (a token for one purpose is useless for the other), carrying only ids. They do not
expire: an unsubscribe link must keep working in an old e-mail, and the order-status page
shows no address or payment details.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from campaigns.defaults import setting

UNSUBSCRIBE_SALT = "campaigns.unsubscribe"
ORDER_STATUS_SALT = "campaigns.order-status"


def absolute(path: str) -> str:
    return setting("CAMPAIGNS_BASE_URL").rstrip("/") + path


def unsubscribe_token(*, person_key: str, channel: str, topic: str) -> str:
    return signing.dumps({"p": person_key, "c": channel, "t": topic}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> dict | None:
    """{"p": person key, "c": channel, "t": topic}, or None for a token that is not ours."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) and data.get(k) for k in "pct"):
        return None
    return data


def unsubscribe_url(*, person_key: str, channel: str, topic: str) -> str:
    token = unsubscribe_token(person_key=person_key, channel=channel, topic=topic)
    return absolute(reverse("campaigns:unsubscribe", kwargs={"token": token}))


def order_status_token(order) -> str:
    return signing.Signer(salt=ORDER_STATUS_SALT).sign(str(order.number))


def read_order_status_token(token: str) -> str | None:
    """The order number, or None for a token that is not ours."""
    try:
        return signing.Signer(salt=ORDER_STATUS_SALT).unsign(token)
    except signing.BadSignature:
        return None


def order_status_url(order) -> str:
    return absolute(reverse("campaigns:order-status", kwargs={"token": order_status_token(order)}))
