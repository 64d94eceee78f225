"""What the design and broadcast previews share for "Send a test": the form and how the
outcome is told to the marketer (a message on the page, never a 500)."""

from __future__ import annotations

from typing import Callable

from django import forms
from django.contrib import messages

from campaigns.rendering import RenderError


class TestForm(forms.Form):
    to = forms.EmailField(label="Send a test to", help_text="A staff member's address.")


def test_send_reported(request, send: Callable[[], object], *, name: str, to: str) -> None:
    """Run ``send`` and say on the page what happened: sent, not renderable, refused."""
    try:
        send()
    except RenderError as exc:
        messages.error(request, f"Not sent: {exc}")
    except ValueError as exc:
        messages.error(request, str(exc))
    except Exception as exc:  # noqa: BLE001 - the mail server refused: say so, do not 500
        messages.error(request, f"The mail server did not take the test: {type(exc).__name__}: {exc}")
    else:
        messages.success(request, f"Test of “{name}” sent to {to}.")
