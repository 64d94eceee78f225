"""The well-known ids of a message's context as the objects its template uses.

One resolver for every source (flows, broadcasts, e-mail designs), as the trigger contract
names them (campaigns/triggers/base.py): ``basket_id`` -> ``basket``, ``order_id`` ->
``order``, ``product_ids`` -> ``products`` (in that order; unknown ids dropped),
``category_id`` -> ``category``, ``segment_id`` -> ``segment``, ``occasion_id`` ->
``occasion``, ``voucher_id`` or ``voucher_code`` -> ``voucher``. Only the ids present are
looked up (one query each); a missing row is None, never an error: the template decides.
"""

from __future__ import annotations

from oscar.core.loading import get_model

_SINGLE = {"basket_id": ("basket", "basket", "Basket"), "order_id": ("order", "order", "Order"),
           "category_id": ("category", "catalogue", "Category"), "segment_id": ("segment", "ecrm", "Segment"),
           "occasion_id": ("occasion", "campaigns", "Occasion"), "voucher_id": ("voucher", "voucher", "Voucher")}


def _pk(value) -> int | None:
    return int(value) if value not in (None, "") and str(value).isdigit() else None


def objects_from_ids(ids: dict) -> dict:
    """{name: object} for each well-known id present in ``ids``."""
    objects = {}
    for id_name, (name, app, model) in _SINGLE.items():
        if id_name in ids:
            pk = _pk(ids[id_name])
            objects[name] = get_model(app, model)._default_manager.filter(pk=pk).first() if pk else None
    if "voucher" not in objects and ids.get("voucher_code"):
        objects["voucher"] = get_model("voucher", "Voucher").objects.filter(code=ids["voucher_code"]).first()
    if "product_ids" in ids:
        wanted = [pk for pk in map(_pk, ids.get("product_ids") or []) if pk]
        found = get_model("catalogue", "Product").objects.in_bulk(wanted)
        objects["products"] = [found[pk] for pk in wanted if pk in found]
    return objects
