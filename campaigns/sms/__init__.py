"""SMS, sent like Django sends e-mail: a message object and a pluggable backend named by
``CAMPAIGNS_SMS_BACKEND`` (as ``EMAIL_BACKEND``). The store's own provider (Twilio,
MessageBird, Vonage...) is one small class with ``send_messages``; the demo writes to the
console or a folder, tests keep messages in memory (``campaigns.sms.outbox``).

SMS go through the same outbox as e-mail (``Message.channel == "sms"``): one row per
message, the same claim, retries and dead letters, and consent per channel in ecrm's ledger.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.utils.module_loading import import_string

outbox: list = []  # the locmem backend's messages, as django.core.mail.outbox


@dataclass
class SmsMessage:
    to: str                 # E.164-ish: "+447700900123"
    body: str
    from_: str = ""
    message_id: str = field(default_factory=lambda: f"sms-{uuid.uuid4().hex}")

    def send(self, *, connection=None) -> int:
        connection = connection or get_connection()
        return connection.send_messages([self])


def get_connection(backend: str | None = None, **kwargs):
    from campaigns.defaults import setting

    return import_string(backend or setting("CAMPAIGNS_SMS_BACKEND"))(**kwargs)
