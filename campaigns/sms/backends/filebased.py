"""Writes each SMS to its own file in ``CAMPAIGNS_SMS_FILE_PATH`` (one ``.txt`` per message)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from campaigns.sms.backends.base import BaseSmsBackend, as_text


class SmsBackend(BaseSmsBackend):
    def __init__(self, *args, file_path=None, **kwargs):
        from campaigns.defaults import setting

        path = file_path or setting("CAMPAIGNS_SMS_FILE_PATH")
        if not path:
            raise ImproperlyConfigured("the file SMS backend needs CAMPAIGNS_SMS_FILE_PATH (a folder)")
        self.folder = Path(path)
        self.folder.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)

    def send_messages(self, messages) -> int:
        for message in messages:
            (self.folder / f"{message.message_id}.txt").write_text(as_text(message), encoding="utf-8")
        return len(messages)
