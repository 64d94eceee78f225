"""Signed links in messages: one-click unsubscribe and the order-status page.

Both work without login, so the token is the credential: signed with SECRET_KEY under its
own salt (a token for one purpose is useless for the other), carrying only ids. They do not
expire: an unsubscribe link must keep working in an old e-mail, and the order-status page
shows no address or payment details.

An outbox message has one token of its own (``message_token``: its id, signed once), from
which its unsubscribe link, open pixel and click links derive (``campaigns.engagement``):
one HMAC per e-mail instead of one per link, which mattered for a 100,000-message
broadcast. Its unsubscribe link reads person, channel and topic from the message row.
Person-based unsubscribe tokens (``unsubscribe_token``: previews, test sends, e-mails sent
before) keep working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse

from campaigns.defaults import setting

UNSUBSCRIBE_SALT = "campaigns.unsubscribe"
ORDER_STATUS_SALT = "campaigns.order-status"
MESSAGE_SALT = "campaigns.message"
MESSAGE_TOKEN = re.compile(r"^[0-9]{1,19}:[A-Za-z0-9_-]{20,100}$")


def absolute(path: str) -> str:
    return setting("CAMPAIGNS_BASE_URL").rstrip("/") + path


def unsubscribe_token(*, person_key: str, channel: str, topic: str) -> str:
    return signing.dumps({"p": person_key, "c": channel, "t": topic}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> dict | None:
    """{"p": person key, "c": channel, "t": topic}, or None for a token that is not ours
    (a message's own token: the message's person, channel and topic)."""
    if MESSAGE_TOKEN.match(token or ""):
        from campaigns.models import Message

        message_id = read_message_token(token)
        message = Message.objects.filter(pk=message_id).only("person_key", "channel", "topic").first() \
            if message_id else None
        if message is None or not message.person_key:
            return None
        return {"p": message.person_key, "c": message.channel, "t": message.topic or "all"}
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


@lru_cache(maxsize=8)
def _hmac_key(secret: str, salt: str) -> bytes:
    """The key ``signing.Signer(salt=salt)`` derives from SECRET_KEY (``salted_hmac``), kept."""
    return hashlib.sha256(f"{salt}signer".encode() + secret.encode()).digest()


def fast_sign(value: str, salt: str) -> str:
    """Exactly ``signing.Signer(salt=salt).sign(value)`` (so ``unsign`` reads it, with key
    rotation through SECRET_KEY_FALLBACKS), without deriving the key again on every call."""
    digest = hmac.new(_hmac_key(settings.SECRET_KEY, salt), value.encode(), hashlib.sha256).digest()
    return f"{value}:{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def message_token(message_id: int) -> str:
    """The message's one signed token: ``<id>:<signature>``."""
    return fast_sign(str(int(message_id)), MESSAGE_SALT)


def read_message_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=MESSAGE_SALT).unsign(token or ""))
    except (signing.BadSignature, ValueError):
        return None


def message_unsubscribe_url(message_id: int, token: str | None = None) -> str:
    """The message's one-click unsubscribe link (its own token; see the module docstring)."""
    return _unsubscribe_pattern().format(token=token or message_token(message_id))


@lru_cache(maxsize=4)
def _pattern_for(base: str, name: str) -> str:
    return base.rstrip("/") + reverse(name, kwargs={"token": "TOKEN"}).replace("TOKEN", "{token}")


def _unsubscribe_pattern() -> str:
    return _pattern_for(setting("CAMPAIGNS_BASE_URL"), "campaigns:unsubscribe")


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
