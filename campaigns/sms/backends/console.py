"""Writes each SMS to standard output (the demo's default), like Django's console e-mail backend."""

import sys
import threading

from campaigns.sms.backends.base import BaseSmsBackend, as_text


class SmsBackend(BaseSmsBackend):
    _lock = threading.RLock()

    def __init__(self, *args, stream=None, **kwargs):
        self.stream = stream or sys.stdout
        super().__init__(*args, **kwargs)

    def send_messages(self, messages) -> int:
        with self._lock:
            for message in messages:
                self.stream.write(as_text(message) + "-" * 79 + "\n")
            self.stream.flush()
        return len(messages)
