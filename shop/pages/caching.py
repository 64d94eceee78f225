"""Pages that every anonymous visitor shares, so that a cache can keep them.

A request is **shared** when it is a GET or HEAD that carries none of the cookies that make
a page personal: Django's session (a signed-in customer, flash messages), Oscar's open
basket (the header's basket total) and the messages cookie. That rule is what a CDN or
reverse proxy can see, so it is the rule both sides use (docs/storefront.md has the proxy
configuration). A shared request gets the HTML everybody gets:

* personalised blocks render their fallback (popular, trending, the default banner) and are
  marked for ``recommender/deferred.js``, which fetches the visitor's own in one request
  (``shop.pages.fragments``);
* no CSRF token and no per-visitor cookie (the tracker sets its anonymous id itself);
* ``Cache-Control: public, max-age=0, s-maxage=SHOP_SHARED_PAGE_MAX_AGE``: shared caches
  keep it for a short while, browsers revalidate (a customer who just signed in never sees
  a stale anonymous page from their own cache).

Any other request renders the visitor's own page, marked ``private, no-store``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_cache_control

from shop.pages.defaults import setting

def personal_cookies() -> list[str]:
    """The cookies that make a page personal (the cache's bypass rule)."""
    names = {"SESSION_COOKIE_NAME": "sessionid", "OSCAR_BASKET_COOKIE_OPEN": "oscar_open_basket",
             "MESSAGE_COOKIE_NAME": "messages"}
    return [getattr(settings, name, default) for name, default in names.items()]


def is_shared_request(request) -> bool:
    if request.method not in ("GET", "HEAD") or getattr(request, "is_preview", False):
        return False
    return not any(name in request.COOKIES for name in personal_cookies())


def mark_shared(response) -> None:
    response.ecrm_shared = True
    patch_cache_control(response, public=True, max_age=0, s_maxage=setting("SHOP_SHARED_PAGE_MAX_AGE"))


def mark_personal(response) -> None:
    patch_cache_control(response, private=True, no_store=True)


class PersonalisedPageMixin:
    """For Wagtail pages whose blocks may be personal: decides shared or personal before the
    page renders (``request.ecrm_shared``, which blocks and the recommender's tags read)."""

    def serve(self, request, *args, **kwargs):
        shared = is_shared_request(request)
        request.ecrm_shared = shared
        response = super().serve(request, *args, **kwargs)
        if shared:
            mark_shared(response)
        else:
            mark_personal(response)
        return response


class SharedPageMiddleware:
    """Keeps shared pages shareable on the way out: placed first in ``MIDDLEWARE``, so it sees
    the response after every other middleware has added to it.

    * ``Vary: Cookie`` (added because the page asked whether the visitor is signed in) is
      dropped: a shared page is only served to requests without the personal cookies, which
      is the cache key the proxy uses instead (docs/storefront.md).
    * The tracker's anonymous-id cookie is not set (the browser tracker sets it); nor on a
      deferred fragment's response (``response.ecrm_fragment``).
    * Any other cookie means something personal (a CSRF token, a session) went into the
      page after all: the response is downgraded to ``private, no-store`` rather than shared.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from tracking.defaults import setting as tracking_setting

        response = self.get_response(request)
        if getattr(response, "ecrm_fragment", False):
            # A deferred fragment never gives a visitor their id: the page's tracker does, and
            # a fragment that raced ahead of it would replace the tracker's with another.
            response.cookies.pop(tracking_setting("TRACKING_ANONYMOUS_COOKIE"), None)
        if not getattr(response, "ecrm_shared", False):
            return response
        response.cookies.pop(tracking_setting("TRACKING_ANONYMOUS_COOKIE"), None)
        if response.cookies:
            response.headers.pop("Cache-Control", None)
            mark_personal(response)
            return response
        vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
        kept = [v for v in vary if v.lower() != "cookie"]
        if kept:
            response.headers["Vary"] = ", ".join(kept)
        else:
            response.headers.pop("Vary", None)
        return response
