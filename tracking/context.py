"""Who and where, for server-side events: the current request and the visitor's ids.

Some of Oscar's signals (``order_placed``) carry no request, so the
middleware keeps the current request in a context variable for the
receivers. It also gives every visitor a first-party anonymous id cookie
(one year), shared with the browser tracker, unless consent is required and
not given.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost
from django.urls import reverse

from tracking.defaults import setting
from tracking.messages import truncate_ip

current_request: ContextVar = ContextVar("tracking_current_request", default=None)
# When set, server-side events happened at this time rather than now: for importers and
# simulations that replay past behaviour through the live entry points.
event_time: ContextVar = ContextVar("tracking_event_time", default=None)

UTM_FIELDS = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "name",
              "utm_term": "term", "utm_content": "content"}
ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def api_prefix() -> str:
    """Where the HTTP Tracking API is mounted (``/tracking/v1/``)."""
    return reverse("tracking:v1-batch").removesuffix("batch")


def anonymous_id(request) -> str:
    return getattr(request, "tracking_anonymous_id", "") if request is not None else ""


def request_context(request) -> dict:
    """Segment's ``context`` for a server-side event raised during ``request``."""
    if request is None:
        return {"library": {"name": "oscar-ecrm-server"}}
    campaign = {
        key: request.GET[param] for param, key in UTM_FIELDS.items() if request.GET.get(param)
    }
    referrer = request.META.get("HTTP_REFERER", "")
    try:
        url = request.build_absolute_uri()
    except (KeyError, DisallowedHost):  # internal requests (Wagtail previews) lack a host
        url = request.path
    context = {
        "library": {"name": "oscar-ecrm-server"},
        "page": {"path": request.path, "url": url,
                 "referrer": referrer, "search": request.META.get("QUERY_STRING", "")},
        "userAgent": request.META.get("HTTP_USER_AGENT", ""),
        "ip": truncate_ip(request.META.get("REMOTE_ADDR", "")),
        "locale": getattr(request, "LANGUAGE_CODE", ""),
    }
    if campaign:
        context["campaign"] = campaign
    if referrer:
        context["referrer"] = {"url": referrer, "domain": urlsplit(referrer).hostname or ""}
    session_id = request.COOKIES.get(setting("TRACKING_SESSION_COOKIE"))
    if session_id:
        context["sessionId"] = session_id
    return context


def consent_given(request) -> bool:
    if not setting("TRACKING_REQUIRE_CONSENT"):
        return True
    return request.COOKIES.get(setting("TRACKING_CONSENT_COOKIE")) == "yes"


class TrackingMiddleware:
    """Sets ``request.tracking_anonymous_id`` and the cookie, and the current request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(api_prefix()):
            return self.get_response(request)  # SDK calls carry their own ids; no cookie for them
        cookie = setting("TRACKING_ANONYMOUS_COOKIE")
        existing = request.COOKIES.get(cookie, "")
        allowed = consent_given(request)
        request.tracking_anonymous_id = existing if existing else (str(uuid.uuid4()) if allowed else "")
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        if allowed and request.tracking_anonymous_id and not existing:
            response.set_cookie(cookie, request.tracking_anonymous_id, max_age=ONE_YEAR,
                                samesite="Lax", secure=request.is_secure())
        return response
