"""An erasure and the tracking consumer storing the same visitor's events at the same
moment: the erasure waits for the consumer's transaction (the consumer's per-visitor lock)
so that no event stored alongside it keeps the customer's identity."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from ecrm.models import Profile
from ecrm.privacy import customer_erase
from ecrm.services import profiles_refresh
from tracking.consumer import lock_visitors
from tracking.graph import link_identities
from tracking.models import Event

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=timezone.utc)


def _event(n, **fields) -> Event:
    fields = {"type": "track", "event": "Product Viewed", **fields}
    return Event(message_id=f"race-{n}", timestamp=T0, received_at=T0, source="browser", **fields)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_an_erasure_waits_for_events_being_stored_for_the_same_visitor():
    user = get_user_model().objects.create_user("lin", "lin@example.com", "pw")
    staff = get_user_model().objects.create_user("desk", "desk@example.com", "pw", is_staff=True)
    identify = _event(1, type="identify", event="", user_id=str(user.pk), anonymous_id="visitor-lin",
                      traits={"email": "lin@example.com"})
    link_identities([identify])
    identify.save()
    profiles_refresh(person_keys={str(user.pk)})
    profile = Profile.objects.get(person_key=str(user.pk))
    locked, erasing = threading.Event(), threading.Event()

    def consumer():  # what tracking.consumer._write does for a batch of this visitor's events
        try:
            with transaction.atomic():
                lock_visitors({"visitor-lin"})
                locked.set()
                erasing.wait(5)
                time.sleep(0.5)  # the erasure is under way (or blocked) by now
                _event(2, anonymous_id="visitor-lin", user_id=str(user.pk),
                       properties={"product_id": "7"}).save()
        finally:
            connection.close()

    thread = threading.Thread(target=consumer)
    thread.start()
    assert locked.wait(5)
    erasing.set()
    customer_erase(profile, staff=staff)
    thread.join(10)
    assert not Event.objects.filter(user_id=str(user.pk)).exists()
    assert not Event.objects.filter(anonymous_id="visitor-lin").exists()
