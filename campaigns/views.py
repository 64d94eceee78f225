"""Customer-facing endpoints that work without an account: RFC 8058 one-click unsubscribe,
the order-status page behind a signed link, and the delivery-events webhook."""

from __future__ import annotations

import base64
import binascii
import hmac
import json

from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oscar.core.loading import get_model

from campaigns.defaults import setting
from campaigns.deliverability import EventError, tracking_event_record, unsubscribe
from campaigns.engagement_events import unsubscribed_event
from campaigns.order_status import status_history, tracking_of
from campaigns.tokens import read_order_status_token, read_unsubscribe_token
from tracking.messages import truncate_ip

Order = get_model("order", "Order")
MAX_WEBHOOK_BYTES = 1024 * 1024


def _private(response: HttpResponse) -> HttpResponse:
    """Pages behind a token: not indexed, and the token not leaked through Referer."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _topic_label(topic: str) -> str:
    from ecrm.defaults import setting as ecrm_setting

    labels = dict(ecrm_setting("ECRM_CONSENT_TOPICS"))
    return "all marketing e-mail" if topic == "all" else labels.get(topic, topic)


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class UnsubscribeView(View):
    """GET: a confirmation page (link scanners do not unsubscribe anyone). POST: unsubscribe
    now, whether from the page or from a mailbox provider's one-click
    (``List-Unsubscribe=One-Click``, RFC 8058): no login, session or CSRF token, the signed
    token in the URL is the proof."""

    template_name = "campaigns/unsubscribe.html"

    def _token(self, token: str) -> dict | None:
        return read_unsubscribe_token(token)

    def _invalid(self, request):
        return _private(render(request, self.template_name, {"invalid": True}, status=400))

    def get(self, request, token):
        data = self._token(token)
        if data is None:
            return self._invalid(request)
        return _private(render(request, self.template_name, {"topic": data["t"], "topic_label": _topic_label(data["t"])}))

    def post(self, request, token):
        data = self._token(token)
        if data is None:
            return self._invalid(request)
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        topic = "all" if request.POST.get("scope") == "all" else data["t"]
        source = "one-click" if one_click else "unsubscribe"
        if unsubscribe(person_key=data["p"], channel=data["c"], topic=topic, source=source,
                       evidence={"ip": truncate_ip(request.META.get("REMOTE_ADDR", "")),
                                 "userAgent": request.META.get("HTTP_USER_AGENT", "")[:300],
                                 "oneClick": one_click}):
            unsubscribed_event(person_key=data["p"], channel=data["c"], topic=topic, source=source)
        return _private(render(request, self.template_name, {"done": True, "topic": topic,
                                                             "topic_label": _topic_label(topic)}))


@method_decorator(never_cache, name="dispatch")
class OrderStatusView(View):
    """The order's status and its history, for whoever holds the link from the e-mail. It shows
    no address or payment details, since the link may be forwarded."""

    def get(self, request, token):
        number = read_order_status_token(token)
        if number is None:
            raise Http404("This order link is not valid.")
        order = Order.objects.filter(number=number).first()
        if order is None:
            raise Http404("This order no longer exists.")
        return _private(render(request, "campaigns/order_status.html", {
            "order": order, "history": status_history(order), "tracking": tracking_of(order),
            "lines": order.lines.all()}))


def _authorised(request) -> bool:
    secret = setting("CAMPAIGNS_WEBHOOK_SECRET")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not secret or not header.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), secret.encode())


@method_decorator(csrf_exempt, name="dispatch")
class DeliveryEventsWebhook(View):
    """POST one normalised tracking event or a list of them (django-anymail's shape:
    ``event_type``, ``recipient``, ``message_id``, ``reject_reason``, ...), with HTTP basic
    auth as CAMPAIGNS_WEBHOOK_SECRET says (anymail's WEBHOOK_SECRET convention)."""

    def post(self, request):
        if not setting("CAMPAIGNS_WEBHOOK_SECRET"):
            return JsonResponse({"error": "the webhook is disabled: set CAMPAIGNS_WEBHOOK_SECRET"}, status=403)
        if not _authorised(request):
            response = JsonResponse({"error": "basic auth with the webhook secret is required"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="campaigns webhook"'
            return response
        if len(request.body) > MAX_WEBHOOK_BYTES:
            return JsonResponse({"error": "the body is larger than 1 MB"}, status=413)
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return JsonResponse({"error": "the body is not JSON"}, status=400)
        events = payload if isinstance(payload, list) else [payload]
        try:
            with transaction.atomic():  # all or nothing: the provider sends the batch again
                results = [_apply(index, event) for index, event in enumerate(events)]
        except EventError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse({"applied": results})


def _apply(index: int, event) -> str:
    try:
        return tracking_event_record(event)
    except EventError as exc:
        raise EventError(f"event {index}: {exc}; nothing was applied") from exc
