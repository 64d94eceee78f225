"""Oscar's offer app, forked (Oscar's documented way to replace one of its classes) for one
change: ``Applicator.get_user_offers`` gives a customer the "User" offers of the segments
they are in (``ecrm.SegmentOffer``). Models and migrations stay Oscar's own
(``MIGRATION_MODULES["offer"]`` points at them)."""
