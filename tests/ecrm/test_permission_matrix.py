"""The roles, as one matrix over every eCRM screen and API endpoint: Support serves
customers (profiles, notes, consents, merges) and cannot change segments or export in
bulk; Marketing manages segments and exports them; other staff, customers and visitors get
nothing. Each cell is the HTTP status that role gets."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from ecrm.models import Profile, Segment
from shop.roles import MARKETING, SUPPORT

pytestmark = pytest.mark.django_db
DESK = "/dashboard/customers/support-desk/"
ROLES = ["support", "marketing", "other staff", "customer", "visitor"]
OK, DENIED, LOGIN = 200, 403, 302
RULES = json.dumps({"attribute": "order_count", "op": "gte", "value": 1})

# (method, path, data) -> expected status per role, in ROLES order.
MATRIX = [
    ("get", DESK + "?q=nobody-like-that", None, [OK, OK, DENIED, DENIED, LOGIN]),
    ("get", DESK + "{p}/", None, [OK, OK, DENIED, DENIED, LOGIN]),
    ("post", DESK + "{p}/notes/", {"text": "hi"}, [302, DENIED, DENIED, DENIED, LOGIN]),
    ("post", DESK + "{p}/tags/", {"tags": "VIP"}, [302, 302, DENIED, DENIED, LOGIN]),
    ("post", DESK + "{p}/consents/", {"channel": "email", "topic": "all", "granted": "no"},
     [302, DENIED, DENIED, DENIED, LOGIN]),
    ("get", DESK + "duplicates/", None, [OK, DENIED, DENIED, DENIED, LOGIN]),
    ("get", DESK + "{p}/export/", None, [OK, DENIED, DENIED, DENIED, LOGIN]),
    ("get", DESK + "{p}/erase/", None, [OK, DENIED, DENIED, DENIED, LOGIN]),
    ("get", DESK + "segments/", None, [OK, OK, DENIED, DENIED, LOGIN]),
    ("get", DESK + "segments/{s}/", None, [OK, OK, DENIED, DENIED, LOGIN]),
    ("post", DESK + "segments/new/", {"name": "New", "kind": "dynamic", "rules": RULES},
     [DENIED, 302, DENIED, DENIED, LOGIN]),
    ("get", DESK + "segments/{s}/edit/", None, [DENIED, OK, DENIED, DENIED, LOGIN]),
    ("get", DESK + "segments/{s}/export/", None, [DENIED, OK, DENIED, DENIED, LOGIN]),
    ("get", DESK + "{p}/?tab=analytics", None, [OK, OK, DENIED, DENIED, LOGIN]),
    ("get", DESK + "reports/customers/", None, [DENIED, OK, DENIED, DENIED, LOGIN]),
    ("get", DESK + "reports/funnel/", None, [DENIED, OK, DENIED, DENIED, LOGIN]),
    ("post", DESK + "reports/funnel/saved/", {"name": "Two steps", "steps": "session\nProduct Viewed"},
     [DENIED, 302, DENIED, DENIED, LOGIN]),
    ("get", DESK + "reports/digest/", None, [DENIED, OK, DENIED, DENIED, LOGIN]),
    ("post", DESK + "reports/digest/", {"frequency": "daily"}, [DENIED, 302, DENIED, DENIED, LOGIN]),
]
API_MATRIX = [
    ("get", "/api/ecrm/customers/?q=kim", None, [OK, OK, DENIED, DENIED, 401]),
    ("get", "/api/ecrm/customers/{p}/", None, [OK, OK, DENIED, DENIED, 401]),
    ("get", "/api/ecrm/customers/{p}/timeline/", None, [OK, OK, DENIED, DENIED, 401]),
    ("post", "/api/ecrm/customers/{p}/consents/", {"channel": "email", "granted": False},
     [201, DENIED, DENIED, DENIED, 401]),
    ("get", "/api/ecrm/segments/", None, [OK, OK, DENIED, DENIED, 401]),
    ("get", "/api/ecrm/segments/{s}/members/", None, [DENIED, OK, DENIED, DENIED, 401]),
]


@pytest.fixture
def world(make_staff):
    from django.contrib.auth import get_user_model

    profile = Profile.objects.create(person_key="email:kim@example.com", email="kim@example.com", order_count=2)
    segment = Segment.objects.create(name="Buyers", rules=json.loads(RULES))
    users = {
        "support": make_staff("s@example.com", group=SUPPORT),
        "marketing": make_staff("m@example.com", group=MARKETING),
        "other staff": make_staff("o@example.com"),
        "customer": get_user_model().objects.create_user("c", "c@example.com", "pw"),
        "visitor": None,
    }
    return profile, segment, users


@pytest.mark.parametrize(("method", "path", "data", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_dashboard(world, method, path, data, expected):
    profile, segment, users = world
    url = path.format(p=profile.pk, s=segment.pk)
    for role, status in zip(ROLES, expected):
        client = Client()
        if users[role] is not None:
            client.force_login(users[role])
        got = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        assert got.status_code == status, f"{role}: {method.upper()} {url} gave {got.status_code}, not {status}"


@pytest.mark.parametrize(("method", "path", "data", "expected"), API_MATRIX,
                         ids=[f"{m} {p}" for m, p, *_ in API_MATRIX])
def test_api(world, method, path, data, expected):
    from rest_framework.authtoken.models import Token

    profile, segment, users = world
    url = path.format(p=profile.pk, s=segment.pk)
    for role, status in zip(ROLES, expected):
        client = APIClient()
        if users[role] is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=users[role])[0].key}")
        got = getattr(client, method)(url, data, format="json") if data is not None else getattr(client, method)(url)
        assert got.status_code == status, f"{role}: {method.upper()} {url} gave {got.status_code}, not {status}"
