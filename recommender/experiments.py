"""A/B tests of two model versions: who is in which arm, which version serves them, and
the exposures each arm got.

A running experiment is announced in Redis as one small value (``<prefix>:experiment`` =
``id:control:variant:share``), so serving picks a visitor's version in the same round trip
that reads the serving version, with no database query. A visitor's arm is a hash of the
experiment id and their person key (account id, ``email:…`` or ``anon:<anonymous id>``,
as serving receives it): the same visitor always lands in the same arm, and a new
experiment reshuffles everyone independently of the last one. A visitor who signs in
is served under their account from then on, which may put them in the other arm; the
unit of the experiment is the person key serving sees.

Exposures are counted per arm and visitor as slots render (``record_exposure``): the
number of visitors per arm and their impressions are what per-visitor results divide by.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import redis
from django.db import IntegrityError, transaction
from django.utils import timezone

from recommender import artifact
from recommender.defaults import setting
from recommender.models import Experiment, ModelVersion
from recommender.publish import client, current_key, key, publish

CONTROL, VARIANT = "control", "variant"
BUCKETS = 10_000
KEEP_DAYS = 400


def running_key() -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:experiment"


def exposures_key(experiment_id: int, arm: str) -> str:
    """Hash: visitor (person key) -> impressions they saw in this arm."""
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:experiment:{experiment_id}:{arm}"


def daily_key(experiment_id: int) -> str:
    """Hash: ``<date>|<arm>`` -> impressions that day."""
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:experiment:{experiment_id}:daily"


def arm_of(person: str, experiment_id: int, variant_share: int) -> str:
    """The arm of ``person``: a stable hash of the experiment and the person into 10,000
    buckets; the first ``variant_share`` percent of them see the variant."""
    digest = hashlib.blake2b(f"{experiment_id}|{person}".encode(), digest_size=8).digest()
    return VARIANT if int.from_bytes(digest, "big") % BUCKETS < variant_share * BUCKETS // 100 else CONTROL


def _parse(raw: str | None) -> dict | None:
    if not raw:
        return None
    experiment_id, control, variant, share = raw.split(":")
    return {"id": int(experiment_id), CONTROL: int(control), VARIANT: int(variant), "share": int(share)}


def version_for(person: str) -> int | None:
    """The version to serve ``person``: their arm's while an experiment runs (visitors
    without a key get the serving version), otherwise the serving version; None when
    nothing is published. One Redis round trip; Redis errors reach the caller."""
    return chosen_version(*client().mget(current_key(), running_key()), person)


def chosen_version(current: str | None, running: str | None, person: str) -> int | None:
    """``version_for`` given what Redis holds under ``current_key()`` and ``running_key()``
    (for callers that read them in a round trip of their own)."""
    experiment = _parse(running)
    if experiment and person:
        return experiment[arm_of(person, experiment["id"], experiment["share"])]
    return int(current) if current is not None else None


def exposure_commands(pipe, running: str | None, *, person: str, version: int, count: int) -> None:
    """Add to ``pipe`` the counting of ``count`` impressions of ``version`` shown to
    ``person``, when they belong to the running experiment's arm for that person."""
    experiment = _parse(running)
    if not experiment or not person:
        return
    arm = arm_of(person, experiment["id"], experiment["share"])
    if experiment[arm] != version:
        return  # served before the experiment started, or by another path
    exposures, daily = exposures_key(experiment["id"], arm), daily_key(experiment["id"])
    pipe.hincrby(exposures, person, count).expire(exposures, KEEP_DAYS * 86400)
    pipe.hincrby(daily, f"{timezone.localdate().isoformat()}|{arm}", count).expire(daily, KEEP_DAYS * 86400)


def exposures(experiment: Experiment) -> dict[str, dict[str, int]]:
    """arm -> {visitor: impressions}."""
    r = client()
    return {arm: {person: int(n) for person, n in r.hgetall(exposures_key(experiment.pk, arm)).items()}
            for arm in (CONTROL, VARIANT)}


def daily_impressions(experiment: Experiment) -> dict[tuple[str, str], int]:
    """(date ISO, arm) -> impressions."""
    return {tuple(field.split("|", 1)): int(n) for field, n in client().hgetall(daily_key(experiment.pk)).items()}


def versions_in_use() -> set[int]:
    """Versions a running experiment serves: pruning must keep their files and lists."""
    ids = set()
    for control, variant in Experiment.objects.filter(status=Experiment.RUNNING).values_list("control_id",
                                                                                             "variant_id"):
        ids |= {control, variant}
    return ids


def _can_serve(version: ModelVersion) -> str:
    """Why ``version`` cannot be an arm ("" when it can)."""
    if version.status in (ModelVersion.FAILED,):
        return f"{version} failed to train."
    if version.status != ModelVersion.SERVING and (not version.path or not Path(version.path, "model.json").exists()):
        return f"{version} cannot serve: its files are gone (only the last {setting('RECOMMENDER_KEEP_VERSIONS')} " \
               f"versions are kept)."
    return ""


def ensure_published(version: ModelVersion) -> None:
    """Publish ``version``'s lists under its own key (never switching the serving version)
    unless they are in Redis already (a candidate is trained but not published; pruning
    drops the lists of old versions)."""
    if client().exists(key(version.pk, "popular")):
        return
    publish(version.pk, artifact.load(version.path), top_n=setting("RECOMMENDER_PUBLISH_TOP_N"), serve=False)


def _announce(experiment: Experiment) -> None:
    """Announce ``experiment`` to serving, with no exposures counted yet.

    Its counts are keyed by the database id, and Redis may outlive the rows that ids come
    from (a database restored from a backup or created afresh, as a test run does, while
    Redis keeps its data for ``KEEP_DAYS``): an older experiment's exposures under the same
    id would otherwise be added to this one's results.
    """
    running = f"{experiment.pk}:{experiment.control_id}:{experiment.variant_id}:{experiment.variant_share}"
    pipe = client().pipeline(transaction=True)
    pipe.delete(*(exposures_key(experiment.pk, arm) for arm in (CONTROL, VARIANT)), daily_key(experiment.pk))
    pipe.set(running_key(), running)
    pipe.execute()


def experiment_start(*, name: str, variant: ModelVersion, variant_share: int, by: str = "") -> Experiment:
    """Start testing ``variant`` against the serving version; raises ValueError with the
    reason when it cannot start (nothing serving, the same version, files gone, another
    experiment running, Redis unavailable)."""
    control = ModelVersion.objects.filter(status=ModelVersion.SERVING).first()
    if control is None:
        raise ValueError("No version is serving yet: train one first.")
    if variant.pk == control.pk:
        raise ValueError(f"{variant} is the serving version: choose another version as the variant.")
    if not 1 <= variant_share <= 99:
        raise ValueError("The variant's share of visitors must be from 1 to 99 percent.")
    reason = _can_serve(variant)
    if reason:
        raise ValueError(reason)
    if Experiment.objects.filter(status=Experiment.RUNNING).exists():
        raise ValueError("Another experiment is running: stop it first.")
    try:
        ensure_published(variant)
        ensure_published(control)
        with transaction.atomic():
            experiment = Experiment.objects.create(name=name, control=control, variant=variant,
                                                   variant_share=variant_share, created_by=by)
            _announce(experiment)
    except IntegrityError:
        raise ValueError("Another experiment is running: stop it first.") from None
    except redis.RedisError as exc:
        raise ValueError(f"Redis is unavailable, so nothing would be served: {exc}") from None
    return experiment


def experiment_stop(experiment: Experiment) -> None:
    """Stop ``experiment``: everyone is served the serving version again; results stay."""
    if experiment.status != Experiment.RUNNING:
        raise ValueError(f"{experiment} is not running.")
    with transaction.atomic():
        Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.STOPPED, stopped_at=timezone.now())
        try:
            running = _parse(client().get(running_key()))
            if running and running["id"] == experiment.pk:
                client().delete(running_key())
        except redis.RedisError as exc:
            raise ValueError(f"Redis is unavailable, the experiment keeps running: {exc}") from None
    experiment.refresh_from_db()
