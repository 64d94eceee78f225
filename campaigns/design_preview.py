"""Previewing a design as a chosen customer, and sending a test of it to a member of staff.

A test goes straight to EMAIL_BACKEND, never through the outbox: it has no ``Message`` row,
so it is never counted in a campaign's results, never subject to the customer's consent or
frequency cap, and it counts no recommendation impressions. It is marked ``[Test]`` in the
subject and with an ``X-Campaigns-Test`` header. Its unsubscribe link is the tester's own
(clicking it, or the List-Unsubscribe header, in a test must not unsubscribe the customer
it was rendered for).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns.design_rendering import design_render, preview_context
from campaigns.designs_models import EmailDesign
from campaigns.models import Message
from campaigns.rendering import build_email

TEST_HEADER = "X-Campaigns-Test"


def sample_voucher() -> dict:
    """What the voucher block shows in a preview: a voucher like the ones flows create."""
    return {"code": "PREVIEW-7KQ2", "value": "10% off your next order",
            "expires": timezone.now() + timedelta(days=14)}


def design_version(design: EmailDesign, *, draft: bool) -> EmailDesign:
    """The latest draft (what the marketer is working on) or the published design (what is sent)."""
    if draft and design.latest_revision_id:
        return design.get_latest_revision_as_object()
    return design


def staff_address_ok(address: str) -> bool:
    """Tests go only to the addresses of active staff: the form must not mail anyone else."""
    return get_user_model().objects.filter(is_active=True, is_staff=True, email__iexact=address.strip()).exists()


def design_preview(design: EmailDesign, *, customer=None, order=None, voucher=None, products=None,
                   unsubscribe_for: str = "") -> dict:
    """The design rendered for ``customer`` (RenderError when it cannot be)."""
    context = preview_context(customer=customer, order=order, voucher=voucher, products=products,
                              unsubscribe_for=unsubscribe_for)
    return design_render(design, context, preview=True)


def design_test_send(*, design: EmailDesign, to_email: str, sender, customer=None, order=None,
                     voucher=None) -> dict:
    """Render the design for ``customer`` and send it to ``to_email`` (a staff address) now."""
    if not staff_address_ok(to_email):
        raise ValueError(f"{to_email} is not the address of a member of staff: tests go only to staff")
    rendered = design_preview(design, customer=customer, order=order, voucher=voucher,
                              unsubscribe_for=str(sender.pk))
    unsubscribe = preview_context(customer=None, unsubscribe_for=str(sender.pk))["unsubscribe_url"]
    rendered = {**rendered, "subject": f"[Test] {rendered['subject']}"[:255], "unsubscribe_url": unsubscribe}
    message = Message(key=f"test:design:{design.pk}:{uuid.uuid4().hex}", to_email=to_email.strip())
    email = build_email(message, rendered)
    email.extra_headers[TEST_HEADER] = f"design {design.slug}, rendered for " + (
        customer.email if customer else "nobody in particular") + f", sent by {sender.email}"
    email.send()
    return rendered
