"""A mail backend for demos and staging that writes each message to ``EMAIL_FILE_PATH`` as
one ``.eml`` file (RFC 5322, exactly the bytes an SMTP server would get), and the reads the
dashboard's "Sent mail" viewer uses.

Django's own file backend appends every message of a connection to one ``.log`` file, which
is hard to list or open one by one; an ``.eml`` per message opens in any mail program too.
Set ``EMAIL_BACKEND = "campaigns.sent_mail.FolderEmailBackend"`` (the reference store does
when no SMTP server is configured).
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend

BACKEND = "campaigns.sent_mail.FolderEmailBackend"
FILE_NAME = re.compile(r"^\d{19}-[0-9a-f]{32}\.eml$")


def folder() -> Path:
    path = getattr(settings, "EMAIL_FILE_PATH", None)
    if not path:
        raise ImproperlyConfigured(f"{BACKEND} needs EMAIL_FILE_PATH, the folder to write messages to")
    return Path(path)


class FolderEmailBackend(BaseEmailBackend):
    """Each message becomes ``<nanoseconds>-<uuid>.eml`` in EMAIL_FILE_PATH (created if missing).
    Written to a temporary name and renamed, so a reader never sees half a message."""

    _lock = threading.Lock()

    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path) if file_path else folder()

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            name = f"{time.time_ns():019d}-{uuid.uuid4().hex}.eml"
            temporary = self.folder / f".{name}.tmp"
            temporary.write_bytes(message.message().as_bytes(linesep="\r\n"))
            os.replace(temporary, self.folder / name)
            sent += 1
        return sent


def enabled() -> bool:
    """The viewer only shows messages when this backend is the one sending them."""
    return getattr(settings, "EMAIL_BACKEND", "") == BACKEND and bool(getattr(settings, "EMAIL_FILE_PATH", ""))


@dataclass(frozen=True)
class SentMail:
    name: str
    to: str
    subject: str
    date: datetime | None
    test: bool


def _date(value: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def sent_mail_names() -> list[str]:
    """File names, newest first (they start with the time they were written)."""
    path = folder()
    if not path.is_dir():
        return []
    return sorted((entry.name for entry in os.scandir(path) if FILE_NAME.match(entry.name)), reverse=True)


def sent_mail_summaries(names: list[str]) -> list[SentMail]:
    """To, subject and date of each message (headers only)."""
    parser, path, summaries = BytesHeaderParser(policy=policy.default), folder(), []
    for name in names:
        try:
            with open(path / name, "rb") as handle:
                headers = parser.parse(handle)
        except FileNotFoundError:  # removed meanwhile
            continue
        summaries.append(SentMail(name, str(headers.get("To", "")), str(headers.get("Subject", "")),
                                  _date(headers.get("Date")), "X-Campaigns-Test" in headers))
    return summaries


def sent_mail_read(name: str) -> dict | None:
    """One message: {"headers": [(name, value)], "subject", "to", "date", "html", "text"}; None
    for a name that is not one of ours (no path tricks: the name must match the pattern)."""
    if not FILE_NAME.match(name or ""):
        return None
    try:
        message = message_from_bytes((folder() / name).read_bytes(), policy=policy.default)
    except FileNotFoundError:
        return None
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    return {"name": name, "headers": [(key, str(value)) for key, value in message.items()],
            "subject": str(message.get("Subject", "")), "to": str(message.get("To", "")),
            "date": _date(message.get("Date")), "test": "X-Campaigns-Test" in message,
            "html": html.get_content() if html else "", "text": text.get_content() if text else ""}
