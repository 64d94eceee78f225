"""Celery tasks: take work off the request and the tracking consumer."""

from celery import shared_task
from django.core.management import call_command

from ecrm.services import profiles_refresh_marked

REFRESH_RUN_SECONDS = 4.0  # beat runs the refresh every 5 s, on the catch-up worker (shop.processes)


@shared_task(name="ecrm.tasks.refresh_marked_profiles", ignore_result=True)
def refresh_marked_profiles() -> int:
    """Profiles of the people whose events were stored since the last run (every few seconds),
    a few seconds' worth per run: the next run takes the rest."""
    return profiles_refresh_marked(max_seconds=REFRESH_RUN_SECONDS)


@shared_task(name="ecrm.tasks.rebuild_profiles", ignore_result=True)
def rebuild_profiles() -> None:
    """Every profile from scratch (nightly), in case a refresh was ever missed."""
    call_command("ecrm_rebuild_profiles", verbosity=0)


@shared_task(name="ecrm.tasks.refresh_segments", ignore_result=True)
def refresh_segments() -> None:
    """Every dynamic segment in full: time windows move even when nobody does anything."""
    from ecrm.segments import segments_refresh

    segments_refresh()


@shared_task(name="ecrm.tasks.refresh_scores", ignore_result=True)
def refresh_scores() -> None:
    """Every customer's scores (nightly): recency moves with the calendar."""
    call_command("ecrm_refresh_scores", verbosity=0)


@shared_task(name="ecrm.tasks.send_kpi_digests", ignore_result=True)
def send_kpi_digests(now: str | None = None) -> int:
    """The KPI digests due now (beat runs it hourly; each period goes once per recipient).
    ``now`` (ISO 8601) is for replaying a missed hour."""
    from django.utils.dateparse import parse_datetime

    from ecrm.digest import digests_send

    return digests_send(now=parse_datetime(now) if now else None)


@shared_task(name="ecrm.tasks.rebuild_recent_aggregates", ignore_result=True)
def rebuild_recent_aggregates() -> None:
    """Yesterday's and today's report aggregates from the raw events (nightly): repairs a
    batch whose receiver failed, credits first touches with identity links learnt since."""
    call_command("ecrm_rebuild_aggregates", "--days", "2", verbosity=0)


@shared_task(name="ecrm.tasks.apply_pending_aggregates", ignore_result=True)
def apply_pending_aggregates() -> int:
    """Count the batches the tracking consumer stored since the last run into the daily
    aggregates (beat, every few seconds). Exactly once whatever the retries: see
    ``ecrm.aggregates_pending``."""
    from ecrm.aggregates_pending import RUN_SECONDS, pending_apply

    return pending_apply(max_seconds=RUN_SECONDS)
