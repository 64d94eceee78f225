"""A mail backend for tests with real workers: each message becomes one .eml file in
CAMPAIGNS_TEST_MAIL_DIR, so the test process can count what a worker process sent.
CAMPAIGNS_TEST_MAIL_MODE: ok; fail (the server refuses every message); slow (the send
hangs for a minute first, writing a ``sending-<pid>`` marker, so a test can kill the worker)."""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class FolderBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["CAMPAIGNS_TEST_MAIL_DIR"])
        mode = os.environ.get("CAMPAIGNS_TEST_MAIL_MODE", "ok")
        for message in email_messages:
            if mode == "fail":
                raise smtplib.SMTPDataError(451, b"4.3.0 Mail server temporarily rejected message")
            if mode == "slow":
                (folder / f"sending-{os.getpid()}").write_text(message.subject)
                time.sleep(60)
            (folder / f"{time.time_ns()}-{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
