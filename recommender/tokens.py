"""Attribution tokens: which model version, slot and position put a product in front of
a shopper. Rendered on every recommended item (``data-ecrm-token``), sent back by the
browser tracker with "Product Clicked", and read by the slot report. Signed, so a
forged token is ignored rather than counted."""

from __future__ import annotations

from django.core import signing

SALT = "recommender.token"


def make_token(*, version: int, slot: str, position: int, product_id) -> str:
    return signing.Signer(salt=SALT).sign(f"{version}.{slot}.{position}.{product_id}")


def read_token(token: str) -> dict | None:
    """{"version", "slot", "position", "product_id"}, or None for a token that is not ours."""
    try:
        value = signing.Signer(salt=SALT).unsign(token or "")
        version, slot, position, product_id = value.split(".")
        return {"version": int(version), "slot": slot, "position": int(position), "product_id": product_id}
    except (signing.BadSignature, ValueError):
        return None
