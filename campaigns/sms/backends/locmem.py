"""Keeps each SMS in ``campaigns.sms.outbox`` (for tests), like Django's locmem e-mail backend."""

from campaigns import sms
from campaigns.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send_messages(self, messages) -> int:
        sms.outbox.extend(messages)
        return len(messages)
