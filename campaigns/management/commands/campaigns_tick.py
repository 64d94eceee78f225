"""Run what is due in campaigns as of a moment: ``campaigns_tick [--now ISO8601]``.

The same function beat runs every few seconds (``campaigns.tasks.tick``); operators use it
to catch up after an outage, tests to move time: due broadcasts fan out, flows enrol whom
their triggers find and run the steps that are due, then due outbox messages are dispatched
(new, deferred by the frequency cap or quiet hours, waiting for a retry, or abandoned by a
worker that died).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.tick import tick_run


class Command(BaseCommand):
    help = "Queue every campaign message that is due (as of --now, default the clock)."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="act as of this moment, ISO 8601 (e.g. 2026-12-24T09:00:00+00:00)")

    def handle(self, *args, now=None, **options):
        moment = None
        if now:
            try:
                moment = parse_datetime(now)
            except ValueError:
                moment = None
            if moment is None:
                raise CommandError(f"--now {now!r} is not an ISO 8601 date and time, "
                                   "such as 2026-12-24T09:00:00+00:00")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        done = tick_run(now=moment)
        self.stdout.write(f"{done['broadcasts']} broadcast(s) fanned out, {done['enrolled']} flow enrolment(s), "
                          f"{done['steps']} flow step(s), {done['queued']} message(s) queued for delivery"
                          + (f" as of {moment.isoformat()}" if moment else "") + ".")
