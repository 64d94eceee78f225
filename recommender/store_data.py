"""The shop's interactions, for training: tracking's browsing events and Oscar's orders.

Purchases come from Oscar's order lines rather than "Order Completed" events, so that
imported history and orders placed while tracking was off count too. A visitor's events
belong to the person the identity graph links them to (so a customer's browsing before
they logged in counts for them); unlinked visitors train under their anonymous id, which
still teaches the model which products go together.

``store_items`` describes every public product for the content model, including products
nobody has interacted with yet: that is what makes a new product recommendable.
"""

from __future__ import annotations

from django.utils.html import strip_tags
from oscar.core.loading import get_model

from recommender.config import load_config
from recommender.data import Interactions
from recommender.defaults import setting
from recommender.items import ItemFeatures
from tracking.graph import guest_person
from tracking.models import Event, IdentityLink

OrderLine = get_model("order", "Line")
ProductCategory = get_model("catalogue", "ProductCategory")
Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
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


def _category_paths() -> dict[int, str]:
    """Category id -> its full name (``Kitchen > Tea``), from one query (treebeard paths)."""
    rows = list(Category.objects.values_list("pk", "path", "depth", "name"))
    by_path = {path: name for _pk, path, _depth, name in rows}
    step = Category.steplen
    return {pk: " > ".join(by_path.get(path[:step * d], "") for d in range(1, depth + 1))
            for pk, path, depth, _name in rows}


def _attribute_text(value) -> str:
    text, integer, boolean, number, rich, option = value
    for v in (text, option, rich):
        if v:
            return strip_tags(str(v))
    if integer is not None:
        return str(integer)
    if number is not None:
        return f"{number:g}"
    if boolean is not None:
        return "yes" if boolean else "no"
    return ""


def store_items() -> ItemFeatures:
    """Title, description, categories (full paths), brand, attributes and product class of
    every public product; a child product (variant) shares what it leaves empty with its
    parent. The brand is the attribute coded ``RECOMMENDER_BRAND_ATTRIBUTE``."""
    brand_code = setting("RECOMMENDER_BRAND_ATTRIBUTE")
    paths = _category_paths()
    categories: dict[int, list[str]] = {}
    for product_id, category_id in ProductCategory.objects.order_by("pk").values_list("product_id", "category_id"):
        categories.setdefault(product_id, []).append(paths.get(category_id, ""))
    leaves = dict(ProductCategory.objects.order_by("-pk").values_list("product_id", "category__name"))
    attributes: dict[int, dict[str, str]] = {}
    for product_id, code, *value in ProductAttributeValue.objects.values_list(
            "product_id", "attribute__code", "value_text", "value_integer", "value_boolean", "value_float",
            "value_richtext", "value_option__option").iterator(chunk_size=5000):
        text = _attribute_text(value)
        if text:
            attributes.setdefault(product_id, {})[code] = text
    products = list(Product.objects.filter(is_public=True).values_list(
        "pk", "parent_id", "title", "description", "product_class__name"))
    parents = {pk: (title, description, class_name) for pk, _parent, title, description, class_name in
               Product.objects.filter(pk__in={p[1] for p in products if p[1]}).values_list(
                   "pk", "parent_id", "title", "description", "product_class__name")}
    rows = []
    for pk, parent_id, title, description, class_name in products:
        p_title, p_description, p_class = parents.get(parent_id, ("", "", ""))
        attrs = {**attributes.get(parent_id, {}), **attributes.get(pk, {})}
        cats = categories.get(pk) or categories.get(parent_id) or []
        if class_name or p_class:
            attrs["product class"] = class_name or p_class
        rows.append({"item_id": str(pk), "title": title or p_title or "",
                     "description": strip_tags(description or p_description or ""),
                     "category": "|".join(cats), "brand": attrs.pop(brand_code, ""), "attributes": attrs,
                     "primary_category": leaves.get(pk) or leaves.get(parent_id) or ""})
    return ItemFeatures.from_rows(rows)
