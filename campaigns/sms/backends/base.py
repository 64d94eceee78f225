"""What an SMS backend does: send a list of ``SmsMessage`` and say how many went; raise on a
failure the outbox should retry (as Django's e-mail backends do)."""


class BaseSmsBackend:
    def __init__(self, fail_silently: bool = False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages) -> int:
        raise NotImplementedError("an SMS backend must implement send_messages()")


def as_text(message) -> str:
    return (f"Message-ID: {message.message_id}\nFrom: {message.from_}\nTo: {message.to}\n\n"
            f"{message.body}\n")
