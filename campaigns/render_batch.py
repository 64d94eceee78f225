"""Rendering many messages at once (a delivery batch, a broadcast): Oscar's e-mail templates
rendered as ``CommunicationEventType.get_messages`` does — the database fields when staff
wrote them, else the file templates — with each template compiled once per process, and
what every message of a batch shares (the event type, the broadcast) read once per batch.

Oscar compiles the database templates on every call, and reading the event type and the
broadcast for each of 100,000 messages was most of a broadcast's rendering. Outside a batch
(``rendering_batch()``) everything is read fresh, as before; inside one, a template edited
in the dashboard applies from the next batch on.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.template import TemplateDoesNotExist, engines
from django.template.loader import get_template
from oscar.core.loading import get_model

CommunicationEventType = get_model("communication", "CommunicationEventType")
PARTS = (("subject", "email_subject_template"), ("body", "email_body_template"),
         ("html", "email_body_html_template"))
_batch: ContextVar[dict | None] = ContextVar("campaigns_render_batch", default=None)
_compiled: dict[str, object] = {}


@contextmanager
def rendering_batch(message_ids: list[int] | None = None):
    """Messages rendered inside share what they have in common (read once); with
    ``message_ids``, their customers' profiles are read in one query too."""
    cache = {}
    if message_ids:
        from campaigns.models import Message
        from ecrm.models import Profile

        persons = sorted(set(Message.objects.filter(pk__in=message_ids).values_list("person_key", flat=True)))
        found = {p.person_key: p for p in Profile.objects.filter(person_key__in=persons)}
        cache.update({("profile", person): found.get(person) for person in persons})
        cache["persons"] = persons
    token = _batch.set(cache)
    try:
        yield
    finally:
        _batch.reset(token)
        for flush in cache.get("on-exit", {}).values():
            flush()


def batch_persons() -> list[str] | None:
    """The person keys of the batch's messages (``rendering_batch(message_ids)``), else None."""
    cache = _batch.get()
    return cache.get("persons") if cache is not None else None


def batch_on_exit(key, flush) -> None:
    """Call ``flush()`` once when the batch ends (work its messages share, written in one
    go, e.g. the recommendations' impressions); at once outside a batch."""
    cache = _batch.get()
    if cache is None:
        flush()
    else:
        cache.setdefault("on-exit", {}).setdefault(key, flush)


def batch_cached(key, compute):
    """``compute()``, once per batch for ``key`` (every time outside a batch)."""
    cache = _batch.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _from_string(source: str):
    """A database template compiled once per process (keyed by its text, so an edit is a
    new entry, never a stale one)."""
    template = _compiled.get(source)
    if template is None:
        if len(_compiled) > 1000:
            _compiled.clear()
        template = _compiled[source] = engines["django"].from_string(source)
    return template


def event_type_templates(code: str) -> tuple[tuple, dict]:
    """(a key naming the templates' sources, {"subject", "body", "html": compiled template or
    None}) of the e-mail template ``code`` (CommunicationEventType.DoesNotExist when there is
    no such template)."""
    event_type = batch_cached(("event-type", code), lambda: CommunicationEventType.objects.get(code=code))
    templates, sources = {}, [code]
    for name, field in PARTS:
        source = getattr(event_type, field, None)
        if source is not None:
            template = _from_string(source)
        else:
            source = getattr(event_type, f"{field}_file") % event_type.code.lower()
            try:
                template = get_template(source)
            except TemplateDoesNotExist:
                template = None
        templates[name] = template
        sources.append(source)
    return tuple(sources), templates


def event_type_context(context: dict) -> dict:
    return {**context, "static_base_url": getattr(settings, "OSCAR_STATIC_BASE_URL", None)}


def event_type_messages(code: str, context: dict) -> dict[str, str]:
    """{"subject", "body", "html"} of the e-mail template ``code`` rendered with ``context``
    (CommunicationEventType.DoesNotExist when there is no such template)."""
    _key, templates = event_type_templates(code)
    context = event_type_context(context)
    parts = {name: template.render(context) if template else "" for name, template in templates.items()}
    parts["subject"] = parts["subject"].replace("\n", "").replace("\r", "")
    return parts
