"""Who a campaign leaves out, so its lift can be measured against people it did not message.

The choice is a stable hash of (campaign, person): the same customer is in or out of a
campaign's holdout every time it fires, on every worker, with nothing stored to decide it.
Flows and broadcasts call ``holdout_apply`` where they would create the message: True means
"record the holdout member, send nothing".
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.utils import timezone

from campaigns.models import HoldoutMember


def in_holdout(campaign: str, person_key: str, share: float) -> bool:
    """True for about ``share`` (0..1) of people, the same people every time for ``campaign``."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.blake2b(f"{campaign}\x1f{person_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


def holdout_apply(campaign: str, person_key: str, share: float, *, window: str = "",
                  at: datetime | None = None) -> bool:
    """Record the person as held out of this firing if the hash says so; True when held out."""
    if not in_holdout(campaign, person_key, share):
        return False
    HoldoutMember.objects.get_or_create(campaign=campaign, person_key=person_key, window=window[:120],
                                        defaults={"at": at or timezone.now()})
    return True
