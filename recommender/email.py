"""Recommendations for e-mails (used by campaigns): a block of products as e-mail clients
render them — a table laid out with inline styles, absolute links and images — and the
same block as plain text.

Each e-mail names its slot (``email:<name>``, e.g. ``email:welcome``): the links carry an
attribution token for that slot (``?ecrm_token=…``, which the browser tracker reports as
"Product Clicked" when the shopper lands), the block's items count as impressions of it,
so e-mails appear in the slot report and in A/B results like any storefront slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.contrib.sites.models import Site
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from oscar.core.loading import get_class
from oscar.core.thumbnails import get_thumbnailer
from oscar.templatetags.currency_filters import currency

from recommender.attribution import record_impressions
from recommender.defaults import setting
from recommender.serving import Recommendation, recommendations_for
from recommender.tokens import make_token

Selector = get_class("partner.strategy", "Selector")
EMAIL_NAME = re.compile(r"^[a-z0-9_-]{1,40}$")
TOKEN_PARAMETER = "ecrm_token"  # read by tracking/static/tracking/ecrm.js


@dataclass(frozen=True)
class EmailItem:
    recommendation: Recommendation
    title: str
    url: str  # absolute, with the attribution token
    image_url: str  # absolute; "" when the product has no image
    price: str  # formatted with its currency; "" when it has no price


@dataclass(frozen=True)
class EmailBlock:
    slot: str  # the attribution slot, ``email:<name>``
    items: list[EmailItem]
    html: str  # "" when there is nothing to recommend: leave the block out
    text: str


def base_url() -> str:
    configured = setting("RECOMMENDER_EMAIL_BASE_URL")
    return (configured or f"https://{Site.objects.get_current().domain}").rstrip("/")


def _absolute(url: str, root: str) -> str:
    return url if url.startswith(("http://", "https://", "//")) else root + url


def _image_url(product, root: str) -> str:
    image = product.primary_image()
    if isinstance(image, dict) or not image.original:  # Oscar's stand-in for a product without images
        return ""
    try:
        url = get_thumbnailer().generate_thumbnail(image.original, size="240x240", upscale=False).url
    except (OSError, ValueError):  # an unreadable file: link the original, the client scales it
        url = image.original.url
    return _absolute(url, root) if url else ""


def _price(product, strategy) -> str:
    info = strategy.fetch_for_parent(product) if product.is_parent else strategy.fetch_for_product(product)
    price = info.price
    if not price.exists:
        return ""
    amount = price.incl_tax if price.is_tax_known else price.excl_tax
    return currency(amount, price.currency)


def recommendations_block(person: str, *, email: str, slot: str = "for_you", product=None, k: int = 4,
                          heading: str = "Picked for you", columns: int = 2, link_parameters: dict | None = None,
                          count_impressions: bool = True, item_details: dict | None = None,
                          found: list[Recommendation] | None = None, impressions: list | None = None) -> EmailBlock:
    """Up to ``k`` recommendations for ``person`` (their person key: user id, ``email:…``)
    from serving's ``slot`` chain, attributed to the slot ``email:<email>``.
    ``link_parameters`` are added to every link (e.g. a campaign's ``utm_*``). Counting
    impressions is for the e-mail actually sent; turn it off for previews.
    ``item_details``: a dict shared by many e-mails rendered together (a broadcast), so each
    product's title, link, image and price are looked up once, not once per e-mail.
    ``found``: the person's picks already looked up (``recommendations_for_many`` for a
    delivery batch); ``impressions``: a list the batch writes in one go
    (``record_impressions_many``), instead of a write per e-mail."""
    if not EMAIL_NAME.match(email or ""):
        raise ValueError(f"e-mail name {email!r}: use 1 to 40 lower-case letters, digits, '-' or '_'")
    if not 1 <= k <= 24 or not 1 <= columns <= 4:
        raise ValueError("k must be from 1 to 24 and columns from 1 to 4")
    label = f"email:{email}"
    if found is None:
        found = recommendations_for(slot=slot, person=person, product=product, k=k)
    details = {} if item_details is None else item_details
    found = [replace(rec, token=make_token(version=rec.version, slot=label, position=position,
                                           product_id=rec.product.pk))
             for position, rec in enumerate(found, start=1)]
    root, strategy = base_url(), None
    parameters = tuple((link_parameters or {}).items())
    items = []
    for rec in found:
        # A broadcast shows the same (token, parameters) links again and again: encoded once.
        query = details.get(("query", parameters, rec.token))
        if query is None:
            query = details[("query", parameters, rec.token)] = urlencode({**dict(parameters),
                                                                          TOKEN_PARAMETER: rec.token})
        found_details = details.get(rec.product.pk)
        if found_details is None:
            strategy = strategy or Selector().strategy()
            found_details = details[rec.product.pk] = (
                rec.product.get_title(), rec.product.get_absolute_url(), _image_url(rec.product, root),
                _price(rec.product, strategy))
        title, path, image, price = found_details
        items.append(EmailItem(rec, title, f"{root}{path}?{query}", image, price))
    if count_impressions and impressions is not None:
        impressions.append((found, label, person))
    elif count_impressions:
        record_impressions(found, label, person)
    if not items:
        return EmailBlock(label, [], "", "")
    html, text = block_parts(items, heading=heading, columns=columns, cache=item_details)
    return EmailBlock(label, items, html, text)


def _field(item, name: str):
    return item[name] if isinstance(item, dict) else getattr(item, name)


def block_html(items, *, heading: str, columns: int, cache: dict | None = None) -> str:
    """``recommendations_block.html`` for ``items`` (``EmailItem``s or ``product_cards``'
    dicts): each product's card (``recommendations_card.html``) rendered once per ``cache``
    — a dict shared by the e-mails of a broadcast, where the same card (same product,
    position and link) comes back in thousands of blocks."""
    cards, width = [], 100 // columns
    for item in items:
        fields = tuple(_field(item, name) for name in ("title", "url", "image_url", "price"))
        card = cache.get(("card", width, fields)) if cache is not None else None
        if card is None:
            # The card template escapes what it shows: safe to put in the block as it is.
            card = mark_safe(render_to_string("recommender/email/recommendations_card.html",  # noqa: S308
                                              {"item": item, "width": width}))
            if cache is not None:
                cache[("card", width, fields)] = card
        cards.append(card)
    context = {"heading": heading, "items": items, "width": width,
               "rows": [cards[i:i + columns] for i in range(0, len(cards), columns)]}
    return render_to_string("recommender/email/recommendations_block.html", context)


def block_text(items, *, heading: str) -> str:
    """``recommendations_block.txt``: a titled list of "- title (price)" and the link."""
    return render_to_string("recommender/email/recommendations_block.txt",
                            {"heading": heading, "items": items})


def block_parts(items, *, heading: str, columns: int, cache: dict | None = None) -> tuple[str, str]:
    """(html, text) of the block; with a ``cache``, a block seen before (same products in
    the same places, same links) is not rendered again."""
    if cache is None:
        return block_html(items, heading=heading, columns=columns), block_text(items, heading=heading).strip() + "\n"
    key = ("block", heading, columns, tuple((item.title, item.url, item.image_url, item.price) for item in items))
    found = cache.get(key)
    if found is None:
        found = cache[key] = (block_html(items, heading=heading, columns=columns, cache=cache),
                              block_text(items, heading=heading).strip() + "\n")
    return found


def product_cards(products, *, link_parameters: dict | None = None) -> list[dict]:
    """Products chosen without the recommender (a marketer's pick, a category's newest) in
    the shape ``recommendations_block.html`` shows: title, absolute url (with
    ``link_parameters``, no attribution token), absolute image url and price."""
    root, strategy = base_url(), Selector().strategy()
    query = f"?{urlencode(link_parameters)}" if link_parameters else ""
    return [{"title": product.get_title(), "url": f"{root}{product.get_absolute_url()}{query}",
             "image_url": _image_url(product, root), "price": _price(product, strategy)} for product in products]
