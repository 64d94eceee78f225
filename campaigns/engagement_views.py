"""The open pixel and the click redirect: no login, no session, no cookie, no CSRF (they are
GETs from mail clients), and nothing but a signed token trusted."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.views import View

from campaigns.engagement import (GIF, click_record, open_record, read_click_token, read_open_token, safe_target,
                                  url_digest)
from campaigns.models import Message


def _no_cookie(request) -> None:
    """The tracking middleware gives a new visitor an anonymous-id cookie; a pixel fetched by
    a mail client or its proxy is no visitor, so it gets none."""
    request.tracking_anonymous_id = ""


def _no_store(response):
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


class OpenPixelView(View):
    """A 1×1 transparent GIF; the first fetch of a message's pixel is its open."""

    def get(self, request, token):
        _no_cookie(request)
        message_id = read_open_token(token)
        if message_id is None:
            return _no_store(HttpResponse("Not a valid tracking image.", status=404, content_type="text/plain"))
        message = Message.objects.filter(pk=message_id).only("pk", "person_key", "campaign").first()
        if message is not None and request.method == "GET":
            open_record(message=message, user_agent=request.META.get("HTTP_USER_AGENT", ""))
        return _no_store(HttpResponse(GIF, content_type="image/gif"))

    def head(self, request, token):  # link checkers: answer, record nothing
        _no_cookie(request)
        if read_open_token(token) is None:
            return _no_store(HttpResponse(status=404))
        return _no_store(HttpResponse(content_type="image/gif"))


class ClickView(View):
    """Record the click, then 302 to the link the message had — only that exact URL (or, for
    a link whose ``u`` was changed, one of the shop's own pages): never an open redirect."""

    def get(self, request, token):
        return self._follow(request, token, record=True)

    def head(self, request, token):  # scanners often check links with HEAD: not a click
        return self._follow(request, token, record=False)

    def _follow(self, request, token, *, record: bool):
        signed = read_click_token(token)
        if signed is None:
            return _no_store(HttpResponseBadRequest("This link is not valid (its signature does not match).",
                                                    content_type="text/plain"))
        message_id, digest = signed
        url = request.GET.get("u", "").strip()
        if not url:
            return _no_store(HttpResponseBadRequest("This link has lost its destination (no u= parameter).",
                                                    content_type="text/plain"))
        if url_digest(url) != digest:
            if safe_target(url):
                return _no_store(HttpResponseRedirect(url))
            return _no_store(HttpResponseBadRequest("This link was changed after it was sent; it only leads "
                                                    "to the page it was written for.", content_type="text/plain"))
        if not url.lower().startswith(("http://", "https://")):
            return _no_store(HttpResponseBadRequest("Only web links are followed.", content_type="text/plain"))
        message = Message.objects.filter(pk=message_id).only("pk", "person_key", "campaign").first()
        if message is not None and record:
            click_record(message=message, url=url, user_agent=request.META.get("HTTP_USER_AGENT", ""))
        return _no_store(HttpResponseRedirect(url))
