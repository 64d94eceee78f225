"""Attribution tokens: which model version, slot and position put a product in front of
a shopper. Rendered on every recommended item (``data-ecrm-token``), sent back by the
browser tracker with "Product Clicked", and read by the slot report. Signed, so a
forged token is ignored rather than counted."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core import signing

SALT = "recommender.token"


def make_token(*, version: int, slot: str, position: int, product_id) -> str:
    """The signed token; the same few thousand (version × slot × position × product) are
    made again on every page and e-mail, so each is signed once per process (per key)."""
    return _signed(settings.SECRET_KEY, f"{version}.{slot}.{position}.{product_id}")


@lru_cache(maxsize=65536)
def _signed(secret: str, value: str) -> str:
    return signing.Signer(key=secret, salt=SALT).sign(value)


def read_token(token: str) -> dict | None:
    """{"version", "slot", "position", "product_id"}, or None for a token that is not ours."""
    try:
        value = signing.Signer(salt=SALT).unsign(token or "")
        version, slot, position, product_id = value.split(".")
        return {"version": int(version), "slot": slot, "position": int(position), "product_id": product_id}
    except (signing.BadSignature, ValueError):
        return None
