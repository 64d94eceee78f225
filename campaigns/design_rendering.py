"""An e-mail design rendered for one recipient: subject, preheader, table-based HTML with
its CSS inlined for e-mail clients, and a plain-text part.

The same function serves the outbox (``campaigns.rendering.render`` for a message whose
template is ``design:<slug>``: the published design), the dashboard's preview as a chosen
customer and its test sends, and Wagtail's live preview (``preview=True``: recommendations
count no impressions). A design that cannot be rendered (a template error, a block that
fails) is a ``RenderError`` naming the field or block: the outbox makes it a dead letter
with that reason, the previews show it to the marketer.

CSS: the layout's ``<style>`` is moved into ``style`` attributes by css-inline (Gmail,
Outlook and most webmail drop or ignore ``<style>``); only the ``@media`` rule for narrow
screens stays in a ``<style>``, as an enhancement. Links and images are absolute.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import css_inline
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from campaigns.design_blocks import BlockError, absolute_url, render_string
from campaigns.context_objects import objects_from_ids
from campaigns.designs_models import DESIGN_PREFIX, EmailDesign
from campaigns.rendering import RenderError
from campaigns.tokens import absolute, unsubscribe_url

__all__ = ["RenderError", "design_render", "message_parts", "preview_context"]

INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
LINK = re.compile(r'\b(href|src)="([^"]*)"')


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _store_links(html: str, parameters: dict | None = None) -> str:
    """Links and images made absolute; links into the store get the campaign's ``utm_*``
    (unless they carry their own, as the recommender's do) for the traffic report."""
    suffix = urlencode(parameters or {}).replace("&", "&amp;")

    def fix(match):
        attribute, url = match.group(1), match.group(2)
        url = absolute_url(url) if url.startswith("/") and not url.startswith("//") else url
        if attribute == "href" and suffix and url.startswith(absolute("/")) and "utm_" not in url:
            base, hash_mark, fragment = url.partition("#")
            url = base + ("&amp;" if "?" in base else "?") + suffix + hash_mark + fragment
        return f'{attribute}="{url}"'

    return LINK.sub(fix, html)


def _url(name: str) -> str:
    try:
        return absolute(reverse(name))
    except NoReverseMatch:
        return ""


def design_render(design: EmailDesign, context: dict, *, preview: bool = False) -> dict:
    """{"subject", "preheader", "html", "text"} of ``design`` for the recipient in ``context``
    (``customer``, ``person_key``, ``order``, ``voucher``, ``products``, ``unsubscribe_url``, ...)."""
    shop_name = context.get("shop_name") or getattr(settings, "OSCAR_SHOP_NAME", "")
    campaign = str(context.get("campaign") or f"design-{design.slug}").replace(":", "-")
    context = {**context, "design": design, "preview": preview, "shop_name": shop_name,
               "link_parameters": {"utm_source": "email", "utm_medium": "email", "utm_campaign": campaign}}
    parts = {}
    for field in ("subject", "preheader"):
        try:
            parts[field] = _one_line(render_string(getattr(design, field), context, field, html=False))
        except Exception as exc:  # noqa: BLE001 - a syntax error, or a variable whose lookup raised
            raise RenderError(f"design {design.slug}: the {field} failed to render: {_message(exc)}") from exc
    if not parts["subject"]:
        raise RenderError(f"design {design.slug}: the subject is empty for this recipient")
    rows, texts = [], []
    for position, child in enumerate(design.body, start=1):
        try:
            html = _store_links(child.block.email_html(child.value, context), context["link_parameters"])
            text = child.block.email_text(child.value, context, html)
        except Exception as exc:  # noqa: BLE001 - whatever a block raises is a reason, never a 500
            raise RenderError(f"design {design.slug}: block {position} ({child.block.label}) failed: "
                              f"{_message(exc)}") from exc
        if html:
            rows.append(html)
            texts.append(text.strip())
    if not rows:
        raise RenderError(f"design {design.slug}: no block has anything to show to this recipient")
    unsubscribe = context.get("unsubscribe_url") or ""
    page = render_to_string("campaigns/designs/email.html", {
        "subject": parts["subject"], "preheader": parts["preheader"], "body": mark_safe("\n".join(rows)),
        "shop_name": shop_name, "home_url": absolute("/"), "unsubscribe_url": unsubscribe,
        "preferences_url": _url("ecrm:communication-preferences") or absolute("/")})
    html = _store_links(INLINER.inline(page))
    if unsubscribe:
        footer = f"You receive this because you agreed to hear from {shop_name}.\nUnsubscribe: {unsubscribe}"
    else:
        footer = f"This message is about your account or order with {shop_name}."
    text = "\n\n".join([shop_name, *filter(None, texts), "--", footer]).strip() + "\n"
    return {**parts, "html": html, "text": text}


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) if isinstance(exc, BlockError) else f"{type(exc).__name__}: {exc}"


def design_for(template: str, *, published: bool = True) -> EmailDesign:
    """The design a message's ``template`` names (its published version), or RenderError."""
    slug = template[len(DESIGN_PREFIX):]
    design = EmailDesign.objects.filter(slug=slug).first()
    if design is None:
        raise RenderError(f"no e-mail design with slug {slug!r} (Wagtail → Snippets → E-mail designs)")
    if published and not design.live:
        raise RenderError(f"e-mail design {slug!r} is not published yet")
    return design


def message_parts(message, context: dict) -> dict:
    """What ``campaigns.rendering.render`` needs for a ``design:<slug>`` message:
    {"subject", "body" (text), "html"}, or RenderError. Objects a context builder already
    put in ``context`` win over the ids."""
    design = design_for(message.template)
    objects = {key: value for key, value in objects_from_ids(message.context or {}).items() if not context.get(key)}
    rendered = design_render(design, {**context, **objects, "person_key": message.person_key,
                                      "campaign": message.campaign})
    return {"subject": rendered["subject"], "body": rendered["text"], "html": rendered["html"]}


def sample_customer(user):
    """Whom Wagtail's preview panel shows a design to: the editor's own profile if they have
    one, else the most recently seen customer (so recommendations are a real person's)."""
    from ecrm.models import Profile

    own = Profile.objects.filter(user=user).first() if user and user.is_authenticated else None
    return own or Profile.objects.exclude(email="").order_by("-last_seen_at", "-pk").first()


def preview_context(*, customer=None, order=None, voucher=None, products=None, unsubscribe_for: str = "") -> dict:
    """A recipient's context for previews and tests: the customer (an ecrm Profile, or None
    for "nobody in particular"), optional order, voucher and products, and an unsubscribe
    link for ``unsubscribe_for`` (a person key; default the customer's own)."""
    person_key = customer.person_key if customer else ""
    subscriber = unsubscribe_for or person_key
    return {"customer": customer, "user": getattr(customer, "user", None), "person_key": person_key,
            "order": order, "voucher": voucher, "products": products or [],
            "unsubscribe_url": unsubscribe_url(person_key=subscriber, channel="email", topic="all")
            if subscriber else _url("ecrm:communication-preferences") or absolute("/")}
