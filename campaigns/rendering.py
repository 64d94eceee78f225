"""What a message says: its Oscar e-mail template rendered at send time, with a generated
plain-text part and, for marketing, the unsubscribe link and RFC 8058 headers.

Templates are Oscar's communication event types (dashboard → Content → Email templates):
the database fields when staff have written them, else the file templates
``oscar/communication/emails/commtype_<code>_{subject.txt,body.txt,body.html}``; or, for
``design:<slug>``, an e-mail design composed in Wagtail (``campaigns.design_rendering``).
Each source kind (order status now; flow steps and broadcasts later) adds its own context
through ``CONTEXT_BUILDERS``.
"""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string
from oscar.core.loading import get_model

from campaigns.engagement import instrument_html
from campaigns.render_batch import batch_cached, event_type_context, event_type_messages, event_type_templates
from campaigns.models import Message
from campaigns.plaintext import html_to_text
from campaigns.tokens import message_unsubscribe_url, unsubscribe_url

CommunicationEventType = get_model("communication", "CommunicationEventType")

# source kind -> dotted path of f(message) -> dict added to the template context.
CONTEXT_BUILDERS = {"order-status": "campaigns.order_status.message_context",
                    "flow-step": "campaigns.flows.context.message_context",
                    "broadcast": "campaigns.broadcasts.message_context"}
SMS_MAX_LENGTH = 1600  # ten concatenated parts: providers refuse longer


class RenderError(Exception):
    """The message cannot be rendered (a missing or broken template): retrying will not help."""


def message_context(message: Message) -> dict:
    """What a message's templates are rendered with: its ids, the customer, and what its
    source kind's builder adds (CONTEXT_BUILDERS). Builder errors propagate."""
    from ecrm.models import Profile

    customer = batch_cached(("profile", message.person_key),
                            lambda: Profile.objects.filter(person_key=message.person_key).first())
    context = {**message.context, "message": message, "customer": customer,
               "user": message.user, "shop_name": getattr(settings, "OSCAR_SHOP_NAME", "")}
    if message.kind == Message.MARKETING:
        # An outbox row's own token (campaigns.tokens); a message not saved yet: the person's.
        context["unsubscribe_url"] = message_unsubscribe_url(message.pk) if message.pk else unsubscribe_url(
            person_key=message.person_key, channel=message.channel, topic=message.topic or "all")
    builder = CONTEXT_BUILDERS.get(message.source_kind)
    if builder:
        context.update(import_string(builder)(message))
    return context


SKELETON_KINDS = {"broadcast"}  # sources whose messages share everything but the recipient


def _from_skeleton(message: Message, context: dict) -> dict | None:
    """The message rendered by filling in its broadcast's skeleton (``campaigns.skeleton``),
    or None when the template or this recipient needs the full render."""
    from campaigns.skeleton import skeleton_fill, skeleton_for
    from campaigns.tokens import message_token

    key, templates = event_type_templates(message.template)
    context = event_type_context(context)
    skeleton = skeleton_for(key, templates, context, message.context or {})
    if skeleton is None:
        return None
    unsubscribe = context.get("unsubscribe_url")
    filled = skeleton_fill(skeleton, context, token=message_token(message.pk), unsubscribe_url=unsubscribe)
    if filled is None:
        return None
    subject, body, html = filled["subject"].strip(), filled["body"].strip(), filled["html"]
    if not subject or not (body or html):
        return None  # the full render says what is wrong
    text = body + "\n" if body else filled["text"]
    return {"subject": subject[:255], "text": text, "html": html, "unsubscribe_url": unsubscribe}


def render(message: Message) -> dict:
    """{"subject", "text", "html", "unsubscribe_url"} for the message, or RenderError."""
    try:
        context = message_context(message)
        if message.source_kind in SKELETON_KINDS and message.campaign and message.pk \
                and not message.template.startswith("design:"):
            fast = _from_skeleton(message, context)
            if fast is not None:
                return fast
        if message.template.startswith("design:"):
            from campaigns.design_rendering import message_parts

            parts = message_parts(message, context)
        else:
            parts = event_type_messages(message.template, context)
    except CommunicationEventType.DoesNotExist:
        raise RenderError(f"no e-mail template with code {message.template!r} "
                          "(dashboard → Content → Email templates)") from None
    except RenderError:
        raise
    except Exception as exc:  # noqa: BLE001 - template syntax and lookup errors of any kind
        raise RenderError(f"template {message.template} failed to render: {type(exc).__name__}: {exc}") from exc
    subject = parts["subject"].strip()
    if not subject or not (parts["body"].strip() or parts["html"].strip()):
        raise RenderError(f"template {message.template} rendered an empty subject or body")
    html = parts["html"].strip()
    text = parts["body"].strip() + "\n" if parts["body"].strip() else html_to_text(html)
    if message.campaign and html:
        # Results of flows and broadcasts: opens (a pixel) and clicks (a signed redirect).
        html = instrument_html(html, message_id=message.pk, keep={context.get("unsubscribe_url")})
    return {"subject": subject[:255], "text": text, "html": html, "unsubscribe_url": context.get("unsubscribe_url")}


def build_email(message: Message, rendered: dict) -> EmailMultiAlternatives:
    """The e-mail to hand to EMAIL_BACKEND, with its Message-ID (kept on the row)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or None
    headers = {"Message-ID": make_msgid(domain=domain), "X-Campaigns-Key": message.key[:200]}
    if rendered["unsubscribe_url"]:
        # RFC 8058 one-click: mailbox providers POST "List-Unsubscribe=One-Click" to this URL.
        headers["List-Unsubscribe"] = f"<{rendered['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(rendered["subject"], rendered["text"],
                                   from_email=getattr(settings, "OSCAR_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL),
                                   to=[message.to_email], headers=headers)
    if rendered["html"]:
        email.attach_alternative(rendered["html"], "text/html")
    return email


def render_sms(message: Message) -> dict:
    """{"subject": "", "text", "html": ""} for an SMS: its own text (``context["sms_text"]``,
    a Django template) or the SMS template of the Oscar event type; RenderError if neither
    renders to something that fits an SMS."""
    from django.template import Context, Template

    try:
        context = message_context(message)
        source = message.context.get("sms_text")
        if not source:
            event_type = CommunicationEventType.objects.filter(code=message.template).first()
            source = event_type.sms_template if event_type else ""
        if not source:
            raise RenderError(f"no SMS text: the message has none and {message.template or 'no template'!r} "
                              "has no SMS template")
        text = Template(source).render(Context(context, autoescape=False)).strip()
    except RenderError:
        raise
    except Exception as exc:  # noqa: BLE001 - template syntax and lookup errors of any kind
        raise RenderError(f"the SMS text failed to render: {type(exc).__name__}: {exc}") from exc
    if not text:
        raise RenderError("the SMS text rendered empty")
    if len(text) > SMS_MAX_LENGTH:
        raise RenderError(f"the SMS text is {len(text)} characters; at most {SMS_MAX_LENGTH}")
    return {"subject": "", "text": text, "html": "", "unsubscribe_url": None}


def build_sms(message: Message, rendered: dict):
    """The SMS to hand to CAMPAIGNS_SMS_BACKEND."""
    from campaigns.defaults import setting
    from campaigns.sms import SmsMessage

    return SmsMessage(to=message.to_phone, body=rendered["text"], from_=setting("CAMPAIGNS_SMS_FROM"))
