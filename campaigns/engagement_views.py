"""The open pixel and the click redirect: no login, no session, no cookie, no CSRF (they are
GETs from mail clients), and nothing but a signed token trusted."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils import timezone
from django.views import View

from campaigns.engagement import (GIF, click_record, is_automated, open_record, read_click_token, read_open_token,
                                  safe_target, url_digest)
from campaigns.engagement_events import email_link_clicked_event, email_opened_event
from campaigns.models import Message, MessageClick, MessageOpen

MESSAGE_FIELDS = ("pk", "person_key", "campaign", "subject", "source_kind")


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
        message = Message.objects.filter(pk=message_id).only(*MESSAGE_FIELDS).first()
        if message is not None and request.method == "GET":
            agent = request.META.get("HTTP_USER_AGENT", "")
            first = not MessageOpen.objects.filter(message_id=message.pk).exists()
            open_record(message=message, user_agent=agent)
            if first:  # the timeline's event collapses repeats by its messageId too
                email_opened_event(message=message, automated=is_automated(agent))
        return _no_store(HttpResponse(GIF, content_type="image/gif"))

    def head(self, request, token):  # link checkers: answer, record nothing
        _no_cookie(request)
        if read_open_token(token) is None:
            return _no_store(HttpResponse(status=404))
        return _no_store(HttpResponse(content_type="image/gif"))


def _click(message, url: str, digest: str, agent: str) -> None:
    """Record the click; the customer's first real click on this link (not a link scanner's
    fetch, which may have come first and is then corrected) is also their timeline's
    "Email Link Clicked"."""
    earlier = MessageClick.objects.filter(message_id=message.pk, url_hash=digest).first()
    if earlier is None:
        click_record(message=message, url=url, user_agent=agent)
    elif earlier.automated and not is_automated(agent):
        MessageClick.objects.filter(pk=earlier.pk, automated=True).update(automated=False, at=timezone.now())
    else:
        return
    if not is_automated(agent):
        email_link_clicked_event(message=message, url=url)


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
        message = Message.objects.filter(pk=message_id).only(*MESSAGE_FIELDS).first()
        if message is not None and record:
            _click(message, url, digest, request.META.get("HTTP_USER_AGENT", ""))
        return _no_store(HttpResponseRedirect(url))
