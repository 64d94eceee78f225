"""``GET /pages/fragments/?page=<id>&f=b:<block id>&f=p:<promotion id>``: the visitor's own
version of a shared page's personal blocks and of promotions, as ``{"fragments": {key: html}}``
for ``recommender/deferred.js`` (the protocol is described in ``recommender.deferred``).

Never cached, and only ever about the asking visitor (their account, or the tracking
cookie's anonymous id): a block renders their recommendations and segment variant.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from wagtail.models import Page

from shop.pages.templatetags.storefront import promotion_html

MAX_FRAGMENTS = 20


def _bad(reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=400)


@never_cache
@require_GET
def page_fragments(request):
    from shop.pages.models import Promotion

    keys = request.GET.getlist("f")
    if not keys:
        return _bad("ask for at least one fragment: f=b:<block id> or f=p:<promotion id>")
    if len(keys) > MAX_FRAGMENTS:
        return _bad(f"at most {MAX_FRAGMENTS} fragments per request")
    request.ecrm_shared = False  # everything here is the visitor's own
    page, blocks = None, {}
    if any(key.startswith("b:") for key in keys):
        page_id = request.GET.get("page", "")
        if not page_id.isdigit():
            return _bad("blocks need the page they are on: page=<id>")
        page = Page.objects.live().public().filter(pk=int(page_id)).first()
        page = page.specific if page is not None else None
        if page is None or not hasattr(page, "body"):
            return _bad(f"no live page {page_id} with blocks")
        blocks = {child.id: child for child in page.body}
    fragments = {}
    for key in keys:
        kind, _, ident = key.partition(":")
        if kind == "b":
            block = blocks.get(ident)
            if block is None:
                return _bad(f"{key}: no such block on page {page.pk}")
            context = {"request": request, "page": page, "self": page}
            fragments[key] = str(block.render(context=context))
        elif kind == "p" and ident.isdigit():
            promotion = Promotion.objects.filter(pk=int(ident)).first()
            if promotion is None:
                return _bad(f"{key}: no such promotion")
            fragments[key] = promotion_html(promotion, request, shared=False)
        else:
            return _bad(f"{key}: a fragment is b:<block id> or p:<promotion id>")
    response = JsonResponse({"fragments": fragments})
    response.ecrm_fragment = True  # never assigns a visitor id (shop.pages.caching.SharedPageMiddleware)
    return response
