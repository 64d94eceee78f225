"""Segment rules: a small JSON language that marketers build in the dashboard, validated
with messages that say where and what is wrong, and compiled to one query on profiles.

A rule is a group or a condition::

    {"all": [rule, ...]}      every rule holds        {"any": [rule, ...]}   one of them holds
    {"not": rule}

    {"attribute": "order_count", "op": "gte", "value": 2}
    {"attribute": "last_order_at", "op": "older_than_days", "value": 30}   (or never ordered)
    {"attribute": "favourite_categories", "op": "contains", "value": "Kitchen"}
    {"event": "Product Viewed", "where": {"category": "Kitchen"}, "op": "gte", "count": 3,
     "within_days": 14}                                   events of the person in a window
    {"orders": {"op": "eq", "count": 0, "within_days": 30}}   Oscar orders in a window
    {"consent": {"channel": "email", "topic": "newsletter"}}   consent in force
    {"tag": "VIP"}

Example: "viewed category Kitchen at least 3 times in 14 days and no order in 30 days"::

    {"all": [{"event": "Product Viewed", "where": {"category": "Kitchen"}, "op": "gte",
              "count": 3, "within_days": 14},
             {"orders": {"op": "eq", "count": 0, "within_days": 30}}]}
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

NUMBER_ATTRIBUTES = {"session_count", "product_views", "basket_adds", "order_count", "revenue",
                     "average_order_value", "rfm_recency", "rfm_frequency", "rfm_monetary",
                     "probability_alive", "churn_risk", "expected_purchases_90d", "expected_purchases_365d",
                     "predicted_clv"}
DATE_ATTRIBUTES = {"first_seen_at", "last_seen_at", "last_order_at"}
TEXT_ATTRIBUTES = {"email", "phone", "first_name", "last_name", "region", "rfm_group"}
LIST_ATTRIBUTES = {"favourite_categories", "favourite_brands", "devices"}
NUMBER_OPS = {"eq", "ne", "gt", "gte", "lt", "lte"}
DATE_OPS = {"within_days", "older_than_days", "is_empty"}
TEXT_OPS = {"eq", "ne", "contains", "startswith", "is_empty"}
COUNT_OPS = {"eq", "gte", "lte"}
MAX_DEPTH, MAX_CONDITIONS, MAX_DAYS = 5, 50, 3650


class RuleError(ValueError):
    """What is wrong with a rule, and where (``all[1].count``)."""


def validate(rule, path: str = "rules", depth: int = 0, counter: list | None = None) -> None:
    counter = [0] if counter is None else counter
    if not isinstance(rule, dict) or not rule:
        raise RuleError(f"{path}: a rule is a JSON object such as {{\"all\": [...]}}")
    if depth > MAX_DEPTH:
        raise RuleError(f"{path}: groups nest at most {MAX_DEPTH} deep")
    for group in ("all", "any"):
        if group in rule:
            items = rule[group]
            if not isinstance(items, list) or not items:
                raise RuleError(f"{path}.{group}: a group needs a non-empty list of rules")
            for index, item in enumerate(items):
                validate(item, f"{path}.{group}[{index}]", depth + 1, counter)
            return
    if "not" in rule:
        validate(rule["not"], f"{path}.not", depth + 1, counter)
        return
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise RuleError(f"a segment has at most {MAX_CONDITIONS} conditions")
    if "attribute" in rule:
        _validate_attribute(rule, path)
    elif "event" in rule:
        if not isinstance(rule["event"], str) or not rule["event"].strip():
            raise RuleError(f"{path}.event: name the event, e.g. \"Product Viewed\"")
        where = rule.get("where", {})
        if not isinstance(where, dict) or not all(
                isinstance(k, str) and k.isidentifier() and isinstance(v, (str, int, float)) and not isinstance(v, bool)
                for k, v in where.items()):
            raise RuleError(f"{path}.where: property names and plain values, e.g. {{\"category\": \"Kitchen\"}}")
        _validate_count(rule, path)
    elif "orders" in rule:
        if not isinstance(rule["orders"], dict):
            raise RuleError(f"{path}.orders: e.g. {{\"op\": \"eq\", \"count\": 0, \"within_days\": 30}}")
        _validate_count(rule["orders"], f"{path}.orders")
    elif "consent" in rule:
        consent = rule["consent"]
        if not isinstance(consent, dict) or consent.get("channel") not in ("email", "sms"):
            raise RuleError(f"{path}.consent.channel: email or sms")
    elif "tag" in rule:
        if not isinstance(rule["tag"], str) or not rule["tag"].strip():
            raise RuleError(f"{path}.tag: name the tag")
    else:
        raise RuleError(f"{path}: unknown rule; use all, any, not, attribute, event, orders, consent or tag")


def _validate_attribute(rule: dict, path: str) -> None:
    name, op, value = rule["attribute"], rule.get("op"), rule.get("value")
    if name in NUMBER_ATTRIBUTES:
        if op not in NUMBER_OPS:
            raise RuleError(f"{path}.op: for {name} use one of {', '.join(sorted(NUMBER_OPS))}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RuleError(f"{path}.value: {name} is compared with a number")
    elif name in DATE_ATTRIBUTES:
        if op not in DATE_OPS:
            raise RuleError(f"{path}.op: for {name} use one of {', '.join(sorted(DATE_OPS))}")
        if op != "is_empty":
            _days(value, f"{path}.value")
    elif name in TEXT_ATTRIBUTES | LIST_ATTRIBUTES:
        ops = TEXT_OPS if name in TEXT_ATTRIBUTES else {"contains", "is_empty"}
        if op not in ops:
            raise RuleError(f"{path}.op: for {name} use one of {', '.join(sorted(ops))}")
        if op != "is_empty" and (not isinstance(value, str) or not value):
            raise RuleError(f"{path}.value: {name} is compared with a text")
    else:
        known = sorted(NUMBER_ATTRIBUTES | DATE_ATTRIBUTES | TEXT_ATTRIBUTES | LIST_ATTRIBUTES)
        raise RuleError(f"{path}.attribute: unknown attribute {name!r}; known: {', '.join(known)}")


def _validate_count(rule: dict, path: str) -> None:
    if rule.get("op", "gte") not in COUNT_OPS:
        raise RuleError(f"{path}.op: use one of {', '.join(sorted(COUNT_OPS))}")
    count = rule.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise RuleError(f"{path}.count: a whole number, 0 or more")
    if "within_days" in rule:
        _days(rule["within_days"], f"{path}.within_days")


def _days(value, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DAYS:
        raise RuleError(f"{path}: a number of days from 1 to {MAX_DAYS}")
    return value


def compile_rule(rule: dict, *, now=None) -> Q:
    """A validated rule as a filter on ``Profile``."""
    now = now or timezone.now()
    if "all" in rule or "any" in rule:
        parts = [compile_rule(item, now=now) for item in rule.get("all") or rule.get("any")]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if "all" in rule else combined | part
        return combined
    if "not" in rule:
        return ~compile_rule(rule["not"], now=now)
    if "attribute" in rule:
        return _attribute(rule, now)
    if "event" in rule:
        return _counted(rule, *_event_persons(rule, now))
    if "orders" in rule:
        return _counted(rule["orders"], *_order_persons(rule["orders"], now))
    if "consent" in rule:
        return _consent(rule["consent"])
    from ecrm.models import TaggedProfile

    tagged = TaggedProfile.objects.filter(tag__name__iexact=rule["tag"].strip()).values("content_object_id")
    return Q(pk__in=tagged)


def _attribute(rule: dict, now) -> Q:
    name, op, value = rule["attribute"], rule["op"], rule.get("value")
    if op == "is_empty":
        return Q(**{f"{name}__isnull": True}) if name in DATE_ATTRIBUTES else Q(**{name: [] if name in LIST_ATTRIBUTES else ""})
    if name in DATE_ATTRIBUTES:
        since = now - timedelta(days=value)
        return Q(**{f"{name}__gte": since}) if op == "within_days" else (
            Q(**{f"{name}__lt": since}) | Q(**{f"{name}__isnull": True}))
    if name in LIST_ATTRIBUTES:
        if connection.vendor == "postgresql":
            return Q(**{f"{name}__contains": [value]})
        return Q(**{f"{name}__icontains": f'"{value}"'})
    if op == "ne":
        return ~Q(**{name: value})
    lookup = {"eq": "iexact" if name in TEXT_ATTRIBUTES else "exact", "contains": "icontains",
              "startswith": "istartswith"}.get(op, op)
    return Q(**{f"{name}__{lookup}": value})


def _counted(rule: dict, sql: str, params: list) -> Q:
    """People with ``op count`` matching rows; ``sql`` selects one person key per row."""
    op, count = rule.get("op", "gte"), rule.get("count", 1)
    having = {"gte": ">=", "eq": "="}
    if op == "lte" or (op == "eq" and count == 0):
        limit = count + 1 if op == "lte" else 1
        grouped = f"SELECT person FROM ({sql}) AS rows GROUP BY person HAVING COUNT(*) >= %s"
        return ~Q(person_key__in=RawSQL(grouped, [*params, limit]))
    if count == 0:  # gte 0: everybody
        return Q()
    grouped = f"SELECT person FROM ({sql}) AS rows GROUP BY person HAVING COUNT(*) {having[op]} %s"
    return Q(person_key__in=RawSQL(grouped, [*params, count]))


def _json_text(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} ->> %s)"
    return f"json_extract({column}, '$.' || %s)"


def _event_persons(rule: dict, now) -> tuple[str, list]:
    """One row per matching event, with its person: the user id, or for an anonymous event
    the person its visitor is linked to."""
    sql = ("SELECT COALESCE(NULLIF(e.user_id, ''), l.user_id) AS person FROM tracking_event e "
           "LEFT JOIN tracking_identitylink l ON e.user_id = '' AND l.kind = 'anonymous' "
           "AND l.identifier = e.anonymous_id WHERE e.event = %s")
    params: list = [rule["event"].strip()]
    if "within_days" in rule:
        sql += " AND e.timestamp >= %s"
        params.append(now - timedelta(days=rule["within_days"]))
    for key, value in rule.get("where", {}).items():
        sql += f" AND {_json_text('e.properties', key)} = %s"
        params += [key, str(value)]
    return sql, params


def _order_persons(rule: dict, now) -> tuple[str, list]:
    sql = ("SELECT CASE WHEN o.user_id IS NOT NULL THEN CAST(o.user_id AS VARCHAR(20)) "
           "ELSE 'email:' || LOWER(o.guest_email) END AS person FROM order_order o WHERE 1 = 1")
    params: list = []
    if "within_days" in rule:
        sql += " AND o.date_placed >= %s"
        params.append(now - timedelta(days=rule["within_days"]))
    return sql, params


def _consent(consent: dict) -> Q:
    """The latest ledger entry for the topic or for all topics is a grant."""
    topic = str(consent.get("topic") or "all").lower()
    sql = ("SELECT c.profile_id FROM ecrm_consent c WHERE c.channel = %s AND c.topic IN (%s, 'all') "
           "AND c.granted AND NOT EXISTS (SELECT 1 FROM ecrm_consent later WHERE later.profile_id = c.profile_id "
           "AND later.channel = c.channel AND later.topic IN (%s, 'all') AND (later.recorded_at > c.recorded_at "
           "OR (later.recorded_at = c.recorded_at AND later.id > c.id)))")
    return Q(pk__in=RawSQL(sql, [consent["channel"], topic, topic]))
