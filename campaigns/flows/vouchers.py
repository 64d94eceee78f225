"""A flow's voucher step: a personal Oscar voucher — one code, for one customer, usable
once, until it expires — built from Oscar's own models (Voucher → ConditionalOffer with a
``PersonalVoucherCondition`` and a percentage or fixed Benefit), so the basket, checkout
and the dashboard's voucher screens treat it like any other."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from oscar.core.loading import get_model

from campaigns.flow_models import PersonalVoucher, PersonalVoucherCondition

Voucher = get_model("voucher", "Voucher")
ConditionalOffer = get_model("offer", "ConditionalOffer")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")
Range = get_model("offer", "Range")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand
RANGE_NAME = "Everything (personal vouchers)"


def _code() -> str:
    return "FLOW-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def personal_voucher_create(*, key: str, flow, user, person_key: str, config: dict,
                            now: datetime) -> PersonalVoucher:
    """The voucher for ``key`` (created once; the same one when asked again)."""
    existing = PersonalVoucher.objects.filter(key=key).select_related("voucher").first()
    if existing:
        return existing
    everything, _ = Range.objects.get_or_create(name=RANGE_NAME, defaults={"includes_all_products": True})
    condition = Condition.objects.create(
        range=everything, type=Condition.COUNT, value=int(config.get("min_items") or 1),
        proxy_class=f"{PersonalVoucherCondition.__module__}.{PersonalVoucherCondition.__name__}")
    if config.get("percent") not in (None, ""):
        benefit = Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE,
                                         value=Decimal(str(config["percent"])))
        what = f"{Decimal(str(config['percent'])).normalize()}% off"
    else:
        benefit = Benefit.objects.create(type=Benefit.FIXED, range=everything, value=Decimal(str(config["amount"])))
        what = f"{Decimal(str(config['amount'])).normalize()} off"
    code = _code()
    ends = now + timedelta(days=int(config["valid_days"]))
    offer = ConditionalOffer.objects.create(
        name=f"{flow.name[:60]}: {what} for {person_key[:40]} ({code})", offer_type=ConditionalOffer.VOUCHER,
        condition=condition, benefit=benefit, exclusive=True)
    voucher = Voucher.objects.create(name=f"{flow.name[:60]} {code}", code=code, usage=Voucher.SINGLE_USE,
                                     start_datetime=now, end_datetime=ends)
    voucher.offers.add(offer)
    return PersonalVoucher.objects.create(key=key, voucher=voucher, person_key=person_key, user=user, flow=flow,
                                          created_at=now)
