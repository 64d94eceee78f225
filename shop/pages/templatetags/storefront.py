"""Template tags of the store's pages.

``{% page_block block %}`` renders one StreamField block of a page: a personal block on a
page every anonymous visitor shares renders its fallback, wrapped in the marker that
``recommender/deferred.js`` replaces with the visitor's own (``shop.pages.fragments``).

``{% promotion "slug" %}`` places a promotion snippet in any template (Oscar's too): the
visitor's variant, or on a shared render the default, fetched afterwards in the same way.
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from recommender.deferred import shared_render
from shop.pages.targeting import visitor_segments

register = template.Library()


def _deferred(html, *, url: str, key: str):
    return format_html('<div class="ecrm-deferred" data-ecrm-deferred-url="{}" data-ecrm-deferred="{}">{}</div>',
                       url, key, html)


def fragments_url(page=None) -> str:
    url = reverse("page-fragments")
    return f"{url}?{urlencode({'page': page.pk})}" if page is not None else url


@register.simple_tag(takes_context=True)
def page_block(context, block):
    request = context.get("request")
    is_personal = getattr(block.block, "is_personal", None)
    if is_personal is not None and getattr(request, "ecrm_shared", False) and is_personal(block.value):
        flat = context.flatten()
        flat["ecrm_block_deferred"] = True
        return _deferred(block.render(context=flat), url=fragments_url(context.get("page")), key=f"b:{block.id}")
    return block.render(context=context.flatten())


def promotion_html(promotion, request, *, shared: bool) -> str:
    """The promotion as the request's visitor sees it; ``shared``: its default, for everybody."""
    from django.template.loader import render_to_string

    if promotion is None or not promotion.live:
        return ""
    variants = [] if shared else list(promotion.variants.all())
    message = promotion
    if variants:
        segments = visitor_segments(request)
        message = next((variant for variant in variants if variant.segment_id in segments), promotion)
    return render_to_string("pages/partials/promotion.html", {"promotion": promotion, "message": message})


@register.simple_tag(takes_context=True)
def promotion_for(context, promotion):
    """A promotion chosen in a page's block (``page_block`` defers the block as a whole)."""
    return mark_safe(promotion_html(promotion, context.get("request"),
                                    shared=bool(context.get("ecrm_block_deferred"))))


@register.simple_tag(takes_context=True)
def promotion(context, slug):
    """``{% promotion "free-delivery" %}``: nothing when there is no such live promotion."""
    from shop.pages.models import Promotion

    request = context.get("request")
    found = Promotion.objects.filter(slug=slug, live=True).first()
    shared = shared_render(request)
    html = mark_safe(promotion_html(found, request, shared=shared))
    if found is not None and shared and found.has_variants():
        return _deferred(html, url=fragments_url(), key=f"p:{found.pk}")
    return html
