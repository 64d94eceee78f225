"""Slots on pages that every anonymous visitor shares, so that a cache may keep them.

A page whose HTML is the same for every anonymous visitor can be cached for all of them (a
CDN, a reverse proxy, the browser), but a slot such as "recommended for you" or "recently
viewed" differs per visitor. In the ``deferred`` rendering (``RECOMMENDER_SLOT_RENDERING``),
such a slot renders its fallback — what anyone without history gets: popular, trending —
into the HTML, marked with the fragment that replaces it; ``recommender/deferred.js`` asks
:func:`slot_fragments` for the visitor's own lists in one request after the page has loaded.
Crawlers and visitors without JavaScript keep the fallback, so no slot is ever empty.

Slots about the page (bought together with this product, trending in this category) do not
depend on the visitor and render in the HTML as they are. Signed-in customers' pages are
personal anyway (their name, their basket): their slots render inline, in one request.

The fragment protocol is shared with other deferred content (the shop's targeted banners):
an element carries ``data-ecrm-deferred-url`` (the endpoint) and ``data-ecrm-deferred``
(its key there); the script asks each endpoint once with all its keys as ``f`` and swaps
each element for ``{"fragments": {key: html}}[key]``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from oscar.core.loading import get_model

from recommender.defaults import setting
from recommender.slots import PERSON_SLOTS, PRODUCT_SLOTS, SLOTS

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
MAX_K = 24
MAX_FRAGMENTS = 12
STYLES = {"links": "recommender/partials/slot.html", "cards": "recommender/partials/slot_cards.html"}


def shared_render(request: HttpRequest | None) -> bool:
    """Whether this request's HTML must be the one every anonymous visitor gets: a page that
    decided so itself (``request.ecrm_shared``, set by the shop's cacheable pages), otherwise
    the ``deferred`` rendering for a visitor who is not signed in."""
    if request is None:
        return False
    decided = getattr(request, "ecrm_shared", None)
    if decided is not None:
        return bool(decided)
    if setting("RECOMMENDER_SLOT_RENDERING") != "deferred":
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


def defers(slot: str) -> bool:
    return slot in PERSON_SLOTS


def fragment_key(*, slot: str, k: int, product=None, category=None, title: str = "",
                 fallback_title: str = "", style: str = "links") -> str:
    """The key that asks :func:`slot_fragments` for this slot again, for the visitor."""
    fields = {"slot": slot, "k": int(k), "style": style}
    if product is not None:
        fields["product"] = product.pk
    if category is not None:
        fields["category"] = category.pk
    if title:
        fields["title"] = str(title)
    if fallback_title:
        fields["fallback_title"] = str(fallback_title)
    return urlencode(fields)


class BadFragment(ValueError):
    """A fragment key that does not name a slot we can render (a 400, with its reason)."""


def parse_fragment_key(raw: str) -> dict:
    """The slot, k, product, category, titles and style a key asks for; BadFragment says why not."""
    fields = QueryDict(raw)
    slot = fields.get("slot", "")
    if slot not in SLOTS:
        raise BadFragment(f"unknown slot {slot!r}; slots: {', '.join(SLOTS)}")
    k = fields.get("k", "4")
    if not k.isdigit() or not 1 <= int(k) <= MAX_K:
        raise BadFragment(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
    style = fields.get("style", "links")
    if style not in STYLES:
        raise BadFragment(f"unknown style {style!r}; styles: {', '.join(STYLES)}")
    spec = {"slot": slot, "k": int(k), "style": style, "product": None, "category": None,
            "title": fields.get("title", "")[:120], "fallback_title": fields.get("fallback_title", "")[:120]}
    for name, model in (("product", Product), ("category", Category)):
        value = fields.get(name)
        if value is None:
            continue
        if not value.isdigit():
            raise BadFragment(f"{name} must be an id, not {value!r}")
        spec[name] = model.objects.filter(pk=int(value), is_public=True).first()
        if spec[name] is None:
            raise BadFragment(f"no {name} {value}")
    if slot in PRODUCT_SLOTS and spec["product"] is None:
        raise BadFragment(f"the {slot} slot needs a product")
    return spec


def render_slot(request, spec: dict) -> str:
    """A slot's HTML for this request's visitor (their own list, impressions counted)."""
    from recommender.slot_html import slot_links_html
    from recommender.templatetags.recommendations import slot_items

    items = slot_items(request, spec["slot"], product=spec["product"], category=spec["category"],
                       k=spec["k"], personal=True)
    if spec["style"] == "links":
        return slot_links_html(items, slot=spec["slot"], title=spec["title"], fallback_title=spec["fallback_title"],
                               category=spec["category"])
    return render_to_string(STYLES[spec["style"]], {
        "items": items, "slot": spec["slot"], "title": spec["title"], "fallback_title": spec["fallback_title"],
        "category": spec["category"], "request": request}, request=None)


@never_cache
@require_GET
def slot_fragments(request):
    """``GET …?f=<key>&f=<key>``: ``{"fragments": {key: html}}`` for the asking visitor (their
    account or the tracking cookie's anonymous id); never cached, never anyone else's."""
    keys = request.GET.getlist("f")
    if not keys:
        return JsonResponse({"error": "ask for at least one fragment: f=<key>"}, status=400)
    if len(keys) > MAX_FRAGMENTS:
        return JsonResponse({"error": f"at most {MAX_FRAGMENTS} fragments per request"}, status=400)
    fragments = {}
    for key in keys:
        try:
            fragments[key] = render_slot(request, parse_fragment_key(key))
        except BadFragment as error:
            return JsonResponse({"error": f"{key}: {error}"}, status=400)
    response = JsonResponse({"fragments": fragments})
    response.ecrm_fragment = True  # a store may keep its visitor-id cookie off fragments (shop.pages.caching)
    return response
