"""Segment screens: who may do what, bad input explained, CSV out (marketing only) and in."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ecrm.models import Profile, Segment, SegmentMembership
from shop.roles import MARKETING, SUPPORT

pytestmark = pytest.mark.django_db
BASE = "/dashboard/customers/support-desk/segments/"
RULES = {"attribute": "order_count", "op": "gte", "value": 2}


@pytest.fixture
def customers(db):
    return [Profile.objects.create(person_key=f"email:p{i}@example.com", email=f"P{i}@Example.com",
                                   first_name=f"P{i}", order_count=i) for i in range(4)]


def _client(make_staff, group):
    client = Client()
    client.force_login(make_staff(f"{group}-seg@example.com", group=group))
    return client


@pytest.mark.parametrize(("group", "view", "create", "export"), [
    (MARKETING, 200, 302, 200), (SUPPORT, 200, 403, 403), (None, 403, 403, 403)])
def test_permission_matrix(make_staff, customers, group, view, create, export):
    segment = Segment.objects.create(name="Two or more", rules=RULES)
    client = _client(make_staff, group)
    assert client.get(BASE).status_code == view
    assert client.get(f"{BASE}{segment.pk}/").status_code == view
    response = client.post(BASE + "new/", {"name": "Loyal", "kind": "dynamic", "rules": json.dumps(RULES)})
    assert response.status_code == create
    assert client.get(f"{BASE}{segment.pk}/export/").status_code == export
    assert client.get(f"{BASE}{segment.pk}/edit/").status_code == (200 if create == 302 else 403)


def test_saving_computes_members_and_export_lists_them(make_staff, customers):
    client = _client(make_staff, MARKETING)
    response = client.post(BASE + "new/", {"name": "Loyal", "kind": "dynamic", "rules": json.dumps(RULES)},
                           follow=True)
    assert "2 members (2 joined, 0 left)" in response.content.decode()
    segment = Segment.objects.get(name="Loyal")
    card = client.get(f"/dashboard/customers/support-desk/{customers[3].pk}/").content.decode()
    assert f"{BASE}{segment.pk}/" in card and "Loyal" in card  # customer ↔ segment, one click
    export = b"".join(client.get(f"{BASE}{segment.pk}/export/").streaming_content).decode()
    lines = export.strip().splitlines()
    assert lines[0] == "email,first_name,last_name,person_key,joined_at"
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["P2@Example.com", "P3@Example.com"]
    from ecrm.models import ProfileAccess

    audited = ProfileAccess.objects.filter(action="export", detail="segment export: Loyal")
    assert sorted(audited.values_list("person_key", flat=True)) == ["email:p2@example.com", "email:p3@example.com"]


@pytest.mark.parametrize(("rules", "message"), [
    ("{not json", "not valid JSON"),
    (json.dumps({"attribute": "shoe_size", "op": "eq", "value": 1}), "unknown attribute"),
    ("", "a rule is a JSON object"),
])
def test_bad_rules_are_explained_and_nothing_is_saved(make_staff, rules, message):
    client = _client(make_staff, MARKETING)
    response = client.post(BASE + "new/", {"name": "Broken", "kind": "dynamic", "rules": rules})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Segment.objects.exists()


def test_live_count_endpoint(make_staff, customers):
    client = _client(make_staff, MARKETING)
    post = lambda body: client.post(BASE + "count/", data=body, content_type="application/json")  # noqa: E731
    assert post(json.dumps(RULES)).json() == {"count": 2}
    bad = post(json.dumps({"all": []}))
    assert bad.status_code == 400 and "non-empty list" in bad.json()["error"]
    assert post("{oops").status_code == 400
    assert Client().post(BASE + "count/", data="{}", content_type="application/json").status_code == 302


def test_static_segment_upload_reports_bad_lines_and_keeps_history(make_staff, customers):
    client = _client(make_staff, MARKETING)
    segment = Segment.objects.create(name="Press list", kind=Segment.STATIC)
    csv_file = SimpleUploadedFile("list.csv", b"Email,Name\np1@example.com,A\nnot-an-email,B\n"
                                              b"P2@EXAMPLE.COM,C\nnobody@example.com,D\n", content_type="text/csv")
    page = client.post(f"{BASE}{segment.pk}/upload/", {"file": csv_file}, follow=True).content.decode()
    assert "2 members (2 joined, 0 left)" in page
    assert "line 3: not-an-email" in page and "no customer with e-mail nobody@example.com" in page
    again = SimpleUploadedFile("list.csv", b"email\np2@example.com\n", content_type="text/csv")
    client.post(f"{BASE}{segment.pk}/upload/", {"file": again})
    assert SegmentMembership.objects.filter(segment=segment, left_at__isnull=False).count() == 1
    segment.refresh_from_db()
    assert segment.member_count == 1
    for bad, message in ((b"\xff\xfe\x00bad", "not UTF-8"), (b"name\nx\n", "email\u201d column")):
        upload = SimpleUploadedFile("bad.csv", bad, content_type="text/csv")
        page = client.post(f"{BASE}{segment.pk}/upload/", {"file": upload}, follow=True).content.decode()
        assert message in page
    segment.refresh_from_db()
    assert segment.member_count == 1  # a bad upload changed nothing
