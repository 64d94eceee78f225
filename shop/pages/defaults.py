"""Every ``SHOP_*`` setting of the store's pages with its one default: read them through ``setting()``."""

from django.conf import settings

DEFAULTS = {
    # How long a shared cache (CDN, reverse proxy) may keep a page every anonymous visitor
    # shares, in seconds (browsers always revalidate: max-age=0). Short: a published change
    # or a sold-out product shows within this time without purging.
    "SHOP_SHARED_PAGE_MAX_AGE": 60,
    # How many of the newest products "new arrivals for you" ranks by the visitor's tastes.
    "SHOP_NEW_ARRIVALS_CANDIDATES": 60,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
