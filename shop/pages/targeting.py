"""Who is looking, for content targeted at segments: the visitor's segments, once per request.

A hero, banner or promotion has a default and variants per segment; the first variant whose
segment the visitor is in wins. Resolving the visitor's segments is one indexed query
(``ecrm.selectors.visitor_segment_ids``), asked only when something on the page is targeted,
and never on a page every anonymous visitor shares (those show the default and fetch the
visitor's variant afterwards: ``shop.pages.caching``).
"""

from __future__ import annotations

from ecrm.selectors import visitor_segment_ids


def visitor_segments(request) -> frozenset[int]:
    """The segment ids of the request's visitor (their account, or the profiles their
    anonymous id is linked to), memoised on the request."""
    if request is None:
        return frozenset()
    cached = getattr(request, "_ecrm_segments", None)
    if cached is None:
        user = getattr(request, "user", None)
        user_id = str(user.pk) if user is not None and user.is_authenticated else ""
        cached = visitor_segment_ids(user_id=user_id,
                                     anonymous_id="" if user_id else getattr(request, "tracking_anonymous_id", ""))
        request._ecrm_segments = cached
    return cached


def chosen_variant(variants, segments: frozenset[int], *, segment_of=lambda v: v["segment"]):
    """The first variant whose segment the visitor is in, or None (show the default).
    ``segment_of`` reads a variant's segment id (a StreamField value stores it as text)."""
    for variant in variants:
        segment = segment_of(variant)
        if segment not in (None, "") and int(segment) in segments:
            return variant
    return None
