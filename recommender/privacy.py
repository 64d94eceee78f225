"""The recommender's share of a customer's data export and erasure (ecrm's
``ECRM_PERSONAL_DATA``): their recent product activity kept in Redis for real-time
recommendations, and their entries in the serving version's per-person lists. Their
events are de-identified by the erasure itself, so the next training does not learn them
again; Redis is cleared once the erasure has committed."""

from __future__ import annotations

import redis

from recommender.recent import recent_forget, recent_read_all


def _ids(person) -> dict[str, set[str]]:
    return {"person_keys": set(person.users), "anonymous_ids": set(person.anonymous)}


class _PersonalData:
    def export(self, person) -> dict:
        try:
            lists = recent_read_all(**_ids(person))
        except redis.RedisError:
            return {"recent_product_activity.json": {"error": "the recommender's store could not be read: "
                                                              "export again later for this part"}}
        entries = [dict(zip(("product_id", "kind", "timestamp"), entry.split("|")))
                   for values in lists.values() for entry in values]
        return {"recent_product_activity.json": entries}

    def plan(self, person) -> dict:
        try:
            return {"recent activity lists": len(recent_read_all(**_ids(person)))}
        except redis.RedisError:
            return {}

    def erase(self, person) -> dict:
        return {}  # nothing in the database: see forget

    def forget(self, person) -> None:
        recent_forget(**_ids(person))


personal_data = _PersonalData()
