"""``{% recommendations "slot" product=... category=... order=... k=4 as items %}`` for
templates, and ``{% recommendation_slots "a" "b" product=... as slots %}`` for several of a
page's slots at once (``slots.a``, ``slots.b``): the shopper is taken from the request (their
account, or the tracking cookie's anonymous id), the basket from Oscar's middleware;
``order`` (an Oscar order) is what ``post_purchase`` is about.
``{% include "recommender/partials/slot.html" %}`` renders a slot whose links carry
attribution tokens for the browser tracker, under the slot's own heading unless ``title`` is
given (``recommender/partials/slot_cards.html``: the same as product cards;
``{% slot_links items "slot" title=… %}``: the same as ``slot.html``, its HTML made once per
distinct content, ``recommender.slot_html``). An unknown slot name is a ValueError that lists the slots.

On a page every anonymous visitor shares (``recommender.deferred.shared_render``), a slot
that depends on the visitor gets the fallback anyone would get, and ``items.deferred``: the
partials then mark it for ``recommender/deferred.js`` to replace with the visitor's own. No
template changes between the two renderings."""

from django import template

from recommender.attribution import record_impressions_many
from recommender.deferred import defers, fragment_key, shared_render
from recommender.serving import recommendations_for_slots
from recommender.slot_html import slot_links_html
from recommender.slots import SHARED_SOURCES
from recommender.slots import slot_title as title_of

register = template.Library()


def person_of(request) -> str:
    if request is None:
        return ""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return str(user.pk)
    anonymous = getattr(request, "tracking_anonymous_id", "")
    return f"anon:{anonymous}" if anonymous else ""


class SlotItems(list):
    """A slot's recommendations, and how they were chosen: ``deferred`` when they are the
    shared fallback that the visitor's own list replaces after the page loads."""

    def __init__(self, items, *, slot, product=None, category=None, k=4, deferred=False):
        super().__init__(items)
        self.slot, self.product, self.category, self.k, self.deferred = slot, product, category, k, deferred

    @property
    def personal(self) -> bool:
        """Whether anything in it is the visitor's own (not what everybody gets): a heading
        such as "Recently viewed" is only true then."""
        return any(rec.source not in SHARED_SOURCES for rec in self)


def slot_items(request, slot, *, product=None, category=None, products=(), k=4, personal=False,
               deferred_elsewhere=False):
    """The slot's items for this request: the visitor's own (``personal``, or a page that is
    not shared), or on a shared page the fallback everybody gets."""
    return slots_items(request, [slot], product=product, category=category, products=products, k=k,
                       personal=personal, deferred_elsewhere=deferred_elsewhere)[slot]


def slots_items(request, slots, *, product=None, category=None, products=(), k=4, personal=False,
                deferred_elsewhere=False) -> dict[str, SlotItems]:
    """``slot_items`` for several slots of one page, served together (one Redis round trip
    for their reads, one for their impressions: ``recommendations_for_slots``)."""
    shared = not personal and shared_render(request)
    # A shared page asks as nobody: no history, no basket, no A/B arm — the same HTML for all.
    person = "" if shared else person_of(request)
    found = recommendations_for_slots(slots, person=person, product=product, category=category,
                                      basket=None if shared else getattr(request, "basket", None),
                                      products=products, k=int(k))
    deferred = {slot: shared and defers(slot) for slot in found}
    record_impressions_many([(items, slot, person) for slot, items in found.items() if not deferred[slot]])
    return {slot: SlotItems(items, slot=slot, product=product, category=category, k=int(k),
                            deferred=deferred[slot] and not deferred_elsewhere) for slot, items in found.items()}


@register.simple_tag(takes_context=True)
def recommendations(context, slot, product=None, category=None, order=None, k=4):
    # A Wagtail block that is deferred as a whole (the shop's pages) sets ``ecrm_block_deferred``.
    # ``order``: what an order just bought (the thank-you page's post_purchase slot).
    products = [line.product_id for line in order.lines.all() if line.product_id] if order is not None else ()
    return slot_items(context.get("request"), slot, product=product, category=category, products=products, k=k,
                      deferred_elsewhere=bool(context.get("ecrm_block_deferred")))


@register.simple_tag(takes_context=True)
def recommendation_slots(context, *slots, product=None, category=None, k=4):
    """``{% recommendation_slots "bought_together" "upsell" product=product k=4 as slots %}``:
    several slots of a page at once, ``slots.<name>`` each as ``{% recommendations %}`` gives
    it, for the cost in round trips of one."""
    return slots_items(context.get("request"), slots, product=product, category=category, k=k,
                       deferred_elsewhere=bool(context.get("ecrm_block_deferred")))


@register.simple_tag
def slot_links(items, slot, title="", fallback_title="", category=None):
    """``{% slot_links items "upsell" title=… fallback_title=… %}``: what
    ``{% include "recommender/partials/slot.html" %}`` renders, made once per distinct HTML
    (``recommender.slot_html``)."""
    return slot_links_html(items, slot=slot, title=title, fallback_title=fallback_title, category=category)


@register.simple_tag
def deferred_key(items, title="", fallback_title="", style="links"):
    """The fragment key that fetches this slot again for the visitor (see recommender.deferred)."""
    return fragment_key(slot=items.slot, k=items.k, product=items.product, category=items.category,
                        title=title or "", fallback_title=fallback_title or "", style=style)


@register.simple_tag
def slot_title(slot, category=None):
    """``{% slot_title "trending" category %}`` → "Trending in Tea"; other slots their heading."""
    return title_of(slot, category)
