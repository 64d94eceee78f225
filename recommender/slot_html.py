"""A slot of links (``recommender/partials/slot.html``) rendered once per process for each
distinct HTML it can have, not on every page.

Rendering a slot runs the template engine over every link (its address, token, title, the
"because you viewed"), which costs as much as serving the slot. Yet the same product page
shows every anonymous visitor, and most customers, the same slot: what goes with the
product. So the HTML is kept under a key made of everything that goes into it — each link's
token (version, slot, position, product), address, title and reason, the headings, whether
the slot is deferred and its fragment key's parts, the language and script prefix — and
reused when all of it is the same. A new version, a renamed product or a different list
makes another key; nothing needs to be invalidated. The template stays the one stores override. Entries are capped per
process (the whole memo is dropped when full: a few thousand slots of a few kilobytes each).
"""

from __future__ import annotations

import threading

from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.translation import get_language

from recommender.slots import SHARED_SOURCES

TEMPLATE = "recommender/partials/slot.html"
MAX_ENTRIES = 4096
_rendered: dict[tuple, str] = {}
_lock = threading.Lock()


def _title(product) -> str | None:
    return None if product is None else product.get_title()


def _key(items, slot: str, title, fallback_title, category) -> tuple:
    return (TEMPLATE, get_language(), get_script_prefix(), slot, str(title or ""), str(fallback_title or ""),
            getattr(category, "pk", None), getattr(category, "name", None), bool(getattr(items, "deferred", False)),
            getattr(items, "slot", None), getattr(items, "k", None),
            getattr(getattr(items, "product", None), "pk", None),
            getattr(getattr(items, "category", None), "pk", None),
            tuple((rec.token, rec.url, rec.product.pk, rec.product.get_title(), rec.source in SHARED_SOURCES,
                   getattr(rec.because, "pk", None), _title(rec.because)) for rec in items))


def slot_links_html(items, *, slot: str, title="", fallback_title="", category=None) -> str:
    """``recommender/partials/slot.html`` for ``items`` (``SlotItems``), from the memo when
    this exact HTML was rendered before."""
    key = _key(items, slot, title, fallback_title, category)
    html = _rendered.get(key)
    if html is None:
        html = render_to_string(TEMPLATE, {"items": items, "slot": slot, "title": title or "",
                                           "fallback_title": fallback_title or "", "category": category})
        with _lock:
            if len(_rendered) >= MAX_ENTRIES:
                _rendered.clear()
            _rendered[key] = html
    return html


def clear() -> None:
    with _lock:
        _rendered.clear()
