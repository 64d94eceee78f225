"""Facts tracking announces to the apps after it (ecrm), which it does not import."""

from django.dispatch import Signal

# New events were stored, with their identity links and sessions: ``events`` is the list of
# ``tracking.models.Event`` rows, none stored before; ``identities`` is a
# ``tracking.graph.BatchIdentities`` (who the batch's visitors are, read once for all
# listeners, on first use). Sent inside the transaction that stores
# them, so what a listener writes commits (or not) with the events: a listener that writes
# must do so in a savepoint (``transaction.atomic()``) so that its failure, which is logged,
# leaves the events stored. Listeners run on the consumer's path, before the batch is
# acknowledged and the next one read: each must cost O(batch) with no query per event, and
# what can wait (recomputing, counting) is recorded here and done by another process.
events_stored = Signal()
