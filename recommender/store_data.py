"""The shop's interactions, for training: tracking's browsing events and Oscar's orders.

Purchases come from Oscar's order lines rather than "Order Completed" events, so that
imported history and orders placed while tracking was off count too. A visitor's events
belong to the person the identity graph links them to (so a customer's browsing before
they logged in counts for them); unlinked visitors train under their anonymous id, which
still teaches the model which products go together.
"""

from __future__ import annotations

from oscar.core.loading import get_model

from recommender.config import load_config
from recommender.data import Interactions
from tracking.graph import guest_person
from tracking.models import Event, IdentityLink

OrderLine = get_model("order", "Line")
ProductCategory = get_model("catalogue", "ProductCategory")
BROWSING = {"Product Viewed": "view", "Product Added": "add_to_basket", "Product Removed": "remove"}
NOT_PURCHASES = {"Cancelled"}


def person_of_visitor(visitors=None, users=()) -> tuple[dict[str, str], dict[str, str]]:
    """Visitor -> person, and earlier user id -> person (``alias``, staff merges): for
    everyone, or (``visitors`` given) only for these anonymous ids and user ids ``users``."""
    links = IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS)
    people = dict((links if visitors is None else links.filter(identifier__in=visitors))
                  .values_list("identifier", "user_id"))
    aliased = IdentityLink.objects.filter(kind=IdentityLink.ALIAS)
    if visitors is not None:
        aliased = aliased.filter(identifier__in={*users, *people.values()})
    aliases = dict(aliased.values_list("identifier", "user_id"))
    return {visitor: aliases.get(person, person) for visitor, person in people.items()}, aliases


def event_person(user_id: str, anonymous_id: str, people: dict, aliases: dict) -> str:
    """The person an event belongs to, with the maps from ``person_of_visitor``."""
    if user_id:
        return aliases.get(user_id, user_id)
    return people.get(anonymous_id, f"anon:{anonymous_id}")


def store_interactions(config: dict | None = None) -> Interactions:
    config = config or load_config()
    people, aliases = person_of_visitor()
    categories = {}
    for product_id, name in ProductCategory.objects.order_by("pk").values_list("product_id", "category__name"):
        categories.setdefault(str(product_id), name)
    users, items, times, events, cats = [], [], [], [], []

    def add(user, item, when, event):
        users.append(user)
        items.append(item)
        times.append(when.timestamp())
        events.append(event)
        cats.append(categories.get(item, ""))

    rows = Event.objects.filter(event__in=BROWSING).values_list(
        "user_id", "anonymous_id", "timestamp", "event", "properties__product_id").iterator(chunk_size=5000)
    for user_id, anonymous_id, when, event, product_id in rows:
        if not product_id:
            continue
        add(event_person(user_id, anonymous_id, people, aliases), str(product_id), when, BROWSING[event])
    lines = OrderLine.objects.filter(product__isnull=False).exclude(order__status__in=NOT_PURCHASES).values_list(
        "order__user_id", "order__guest_email", "order__date_placed", "product_id", "quantity").iterator(chunk_size=5000)
    for user_id, guest_email, placed, product_id, _quantity in lines:
        person = str(user_id) if user_id else guest_person(guest_email or "")
        add(aliases.get(person, person), str(product_id), placed, "purchase")
    return Interactions.from_records(users, items, times, events, config, categories=cats)
