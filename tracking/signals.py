"""Facts tracking announces to the apps after it (ecrm), which it does not import."""

from django.dispatch import Signal

# New events were stored, with their identity links and sessions: ``events`` is the list of
# ``tracking.models.Event`` rows, none stored before. Sent inside the transaction that stores
# them, so what a listener writes commits (or not) with the events: a listener that writes
# must do so in a savepoint (``transaction.atomic()``) so that its failure, which is logged,
# leaves the events stored.
events_stored = Signal()
