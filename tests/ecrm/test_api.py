"""The eCRM REST API: staff only, the roles' permissions, the same data as the card, and
``ecrm_profile`` printing the same JSON."""

import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ecrm.models import Profile, ProfileAccess, Segment
from ecrm.segments import segment_refresh
from shop.roles import MARKETING, SUPPORT
from tracking.models import IdentityLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def kim(db):
    from django.utils import timezone

    profile = Profile.objects.create(person_key="77", email="kim@example.com", first_name="Kim", order_count=3)
    profile.tags.add("VIP")
    IdentityLink.objects.create(kind="anonymous", identifier="kim-phone", user_id="77",
                                first_seen_at=timezone.now(), via="identify")
    segment = Segment.objects.create(name="Regulars", rules={"attribute": "order_count", "op": "gte", "value": 2})
    segment_refresh(segment)
    return profile


def _api(make_staff, group):
    user = make_staff(f"{group}-api@example.com", group=group)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.parametrize(("group", "customer", "consent_post", "segments", "members"), [
    (SUPPORT, 200, 201, 200, 403),
    (MARKETING, 200, 403, 200, 200),
    (None, 403, 403, 403, 403),
])
def test_permission_matrix(make_staff, kim, group, customer, consent_post, segments, members):
    api = _api(make_staff, group)
    segment = Segment.objects.get()
    assert api.get(f"/api/ecrm/customers/{kim.pk}/").status_code == customer
    assert api.get("/api/ecrm/customers/", {"q": "kim"}).status_code == customer
    assert api.post(f"/api/ecrm/customers/{kim.pk}/consents/", {"channel": "email", "granted": False},
                    format="json").status_code == consent_post
    assert api.get("/api/ecrm/segments/").status_code == segments
    assert api.get(f"/api/ecrm/segments/{segment.pk}/members/").status_code == members


def test_without_credentials_nothing_is_served(kim):
    assert APIClient().get(f"/api/ecrm/customers/{kim.pk}/").status_code in (401, 403)
    customer = APIClient(HTTP_AUTHORIZATION="Token not-a-token")
    assert customer.get(f"/api/ecrm/customers/{kim.pk}/").status_code == 401


def test_profile_search_timeline_and_consents(make_staff, kim):
    api = _api(make_staff, SUPPORT)
    profile = api.get(f"/api/ecrm/customers/{kim.pk}/").json()
    assert profile["email"] == "kim@example.com" and profile["tags"] == ["VIP"]
    assert [s["name"] for s in profile["segments"]] == ["Regulars"] and profile["order_count"] == 3
    assert [c["person_key"] for c in api.get("/api/ecrm/customers/", {"q": "kim-phone"}).json()] == ["77"]
    assert api.get("/api/ecrm/customers/", {"q": "k"}).status_code == 400
    created = api.post(f"/api/ecrm/customers/{kim.pk}/consents/",
                       {"channel": "email", "topic": "newsletter", "granted": True}, format="json")
    assert created.status_code == 201 and created.json()["source"] == "api"
    bad = api.post(f"/api/ecrm/customers/{kim.pk}/consents/", {"channel": "fax", "granted": "maybe"}, format="json")
    assert bad.status_code == 400 and {"channel", "granted"} <= set(bad.json())
    timeline = api.get(f"/api/ecrm/customers/{kim.pk}/timeline/").json()
    assert {"consent", "staff"} <= {entry["kind"] for entry in timeline[:2]}
    assert api.get("/api/ecrm/customers/987654/").status_code == 404
    assert ProfileAccess.objects.filter(action="view", detail__startswith="api").count() >= 2


def test_segment_members_are_paginated(make_staff, kim):
    page = _api(make_staff, MARKETING).get(f"/api/ecrm/segments/{Segment.objects.get().pk}/members/").json()
    assert page["count"] == 1 and page["results"][0]["profile"]["email"] == "kim@example.com"
    assert ProfileAccess.objects.filter(person_key="77", detail="api: segment Regulars members").exists()


def test_openapi_schema_is_served():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/ecrm/customers/{id}/" in paths and "/api/ecrm/segments/{id}/members/" in paths
    assert not [path for path in paths if path.startswith("/cms/")]


def test_ecrm_profile_command_prints_the_apis_json(kim, capsys, make_staff):
    call_command("ecrm_profile", "--anonymous-id", "kim-phone", "--json")
    printed = json.loads(capsys.readouterr().out)
    api = _api(make_staff, SUPPORT).get(f"/api/ecrm/customers/{kim.pk}/").json()
    assert printed == api
    call_command("ecrm_profile", "--email", "KIM@example.com")
    assert "kim@example.com" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No customer profile for 'nobody'"):
        call_command("ecrm_profile", "--user-id", "nobody")
