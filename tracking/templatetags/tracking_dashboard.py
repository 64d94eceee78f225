"""Filters for the tracking dashboard's detail pages."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def event_sections(event) -> list[tuple[str, str]]:
    return [(title, pretty_json(value)) for title, value in
            (("Properties", event.properties), ("Traits", event.traits), ("Context", event.context))
            if value]
