"""The named places a store shows recommendations, with the heading a shopper sees.

One list for serving (``recommender.serving.CHAINS`` has a chain per slot), the REST
endpoint's validation, the template partial's default headings and the merchandising
rules' slot choices, so they cannot drift apart.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SLOTS = {
    "for_you": _("Recommended for you"),
    "discover": _("Something new for you"),
    "buy_again": _("Buy again"),
    "bought_together": _("Frequently bought together"),
    "similar": _("Similar items"),
    "upsell": _("You may also like"),
    "complete_order": _("Complete your order"),
    "post_purchase": _("Goes well with your order"),
    "trending": _("Trending now"),
    "recently_viewed": _("Recently viewed"),
}
# Slots about one product: they need ``product=`` and merge in Oscar's manual recommendations.
PRODUCT_SLOTS = ("bought_together", "similar", "upsell")
# Slots about what was just bought: they need ``products=`` (the order's), so a page cannot show them.
ORDER_SLOTS = ("post_purchase",)
# Slots whose lists depend on who is looking (their account, history or session), not only on
# the page: a page shared by every anonymous visitor renders their fallback and fetches the
# visitor's own later (``recommender.deferred``).
PERSON_SLOTS = ("for_you", "discover", "buy_again", "recently_viewed")
# Sources that are the same for everybody: a slot made only of these is showing its fallback
# ("new": the newest products, which a store's "new arrivals for you" falls back to).
SHARED_SOURCES = frozenset({"popular", "trending", "category", "category_trending", "pinned", "manual", "new"})


def check_slot(slot: str) -> None:
    """ValueError naming the slots when ``slot`` is not one of them."""
    if slot not in SLOTS:
        raise ValueError(f"unknown slot {slot!r}; slots: {', '.join(SLOTS)}")


def slot_title(slot: str, category=None) -> str:
    """The heading for a slot: "Trending in Tea" when trending is asked about a category."""
    if slot == "trending" and category:
        return str(_("Trending in %(category)s") % {"category": getattr(category, "name", category)})
    return str(SLOTS.get(slot, slot))
