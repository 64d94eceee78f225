"""Funnel splits by device and by the customer's segments over a scripted event sequence,
events a funnel may name, and saved funnels (CSRF, permissions, bad input)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ecrm.funnel_data import check_events, funnel_traces
from ecrm.funnels import FunnelError, funnel, parse_steps
from ecrm.models import Profile, SavedFunnel, Segment, SegmentMembership
from shop.roles import MARKETING, SUPPORT
from tracking.models import Event, IdentityLink, Session

pytestmark = pytest.mark.django_db
URL = "/dashboard/customers/support-desk/reports/funnel/"
STEPS = "session\nProduct Viewed\nProduct Added\nCheckout Started"


@pytest.fixture
def visits(django_user_model):
    """Five sessions: Ada's on her phone (anonymous, linked to her) and laptop (signed in),
    guest Bea's on her phone, an unknown visitor's on a tablet, and one with no user agent."""
    now = timezone.now() - timedelta(hours=1)
    ada = django_user_model.objects.create_user(username="ada", email="ada@example.com")
    IdentityLink.objects.create(kind=IdentityLink.ANONYMOUS, identifier="ada-phone", user_id=str(ada.pk),
                                first_seen_at=now, via="identify")
    IdentityLink.objects.create(kind=IdentityLink.ANONYMOUS, identifier="bea-phone", user_id="email:bea@example.com",
                                first_seen_at=now, via="checkout")
    script = [("s1", "ada-phone", "", "mobile", ["Product Viewed", "Product Added"]),
              ("s2", str(ada.pk), str(ada.pk), "desktop", ["Product Viewed", "Product Added", "Checkout Started"]),
              ("s3", "bea-phone", "", "mobile", ["Product Viewed"]),
              ("s4", "stranger", "", "tablet", ["Product Viewed", "Product Added"]),
              ("s5", "no-agent", "", "", [])]
    n = 0
    for key, visitor, user_id, device, names in script:
        Session.objects.create(key=key, visitor=visitor, user_id=user_id, device=device, started_at=now,
                               last_event_at=now, event_count=len(names))
        for i, name in enumerate(names):
            n += 1
            Event.objects.create(message_id=f"e{n}", type="track", event=name, anonymous_id=visitor, user_id=user_id,
                                 session_id=key, timestamp=now + timedelta(seconds=i), received_at=now, source="server")
    ada_profile = Profile.objects.create(person_key=str(ada.pk), user=ada)
    Profile.objects.create(person_key="email:bea@example.com", email="bea@example.com")
    for name in ("VIP", "Newsletter"):
        SegmentMembership.objects.create(segment=Segment.objects.create(name=name), profile=ada_profile)
    left = Segment.objects.create(name="Lapsed")
    SegmentMembership.objects.create(segment=left, profile=ada_profile, left_at=now)  # no longer a member
    return now


def _counts(split):
    steps = parse_steps(STEPS)
    now = timezone.now()
    result = funnel(funnel_traces(steps, now - timedelta(days=1), now, split), steps)
    return {group: [row["sessions"] for row in rows] for group, rows in result.items()}


def test_split_by_device(visits):
    assert _counts("device") == {"mobile": [2, 2, 1, 0], "desktop": [1, 1, 1, 1], "tablet": [1, 1, 1, 0],
                                 "(none)": [1, 0, 0, 0]}


def test_split_by_segment_counts_a_session_in_each_current_segment_of_its_customer(visits):
    assert _counts("segment") == {"VIP": [2, 2, 2, 1], "Newsletter": [2, 2, 2, 1], "(in no segment)": [1, 1, 0, 0],
                                  "(not a known customer)": [2, 1, 1, 0]}
    assert _counts("") == {"": [5, 4, 3, 1]}


def test_unknown_events_are_refused_with_the_closest_names(visits):
    with pytest.raises(FunnelError, match="step 2: no “Prodcut Viewed” event .* did you mean “Product Viewed”"):
        check_events(parse_steps("session\nProdcut Viewed"))
    check_events(parse_steps("session\nPayment Info Entered"))  # in the e-commerce spec, not yet recorded
    Event.objects.create(message_id="custom", type="track", event="Price List Downloaded", timestamp=visits,
                         received_at=visits, source="api")
    check_events(parse_steps("session\nPrice List Downloaded"))


def test_the_report_splits_and_refuses_bad_input(visits, make_staff):
    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    csv = client.get(URL, {"steps": STEPS, "split": "device", "format": "csv"}).content.decode()
    assert "desktop,Checkout Started,1,1.0000,1.0000,0" in csv and "mobile,Product Added,1,0.5000,0.5000,1" in csv
    page = client.get(URL, {"steps": STEPS, "split": "segment"}).content.decode()
    assert "VIP" in page and "(not a known customer)" in page
    for bad, reason in (({"steps": "session\nProdcut Viewed"}, "did you mean"), ({"split": "planet"}, "split must be"),
                        ({"days": "999"}, "days must be"), ({"steps": "\n\n"}, "")):
        response = client.get(URL, bad)
        assert response.status_code == (400 if reason else 200) and reason in response.content.decode(), bad
    assert client.get(URL, {"funnel": "999"}).status_code == 404
    assert client.get(URL, {"funnel": "x"}).status_code == 404


def test_saved_funnels_with_csrf_validation_and_permissions(visits, make_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("m@example.com", group=MARKETING))
    token = client.get(URL).cookies["csrftoken"].value
    save = URL + "saved/"
    assert client.post(save, {"name": "Checkout path", "steps": STEPS}).status_code == 403  # no CSRF token
    response = client.post(save, {"name": "Checkout path", "steps": STEPS, "csrfmiddlewaretoken": token})
    saved = SavedFunnel.objects.get(name="Checkout path")
    assert response.status_code == 302 and response["Location"].endswith(f"?funnel={saved.pk}")
    assert saved.steps == parse_steps(STEPS)
    page = client.get(URL, {"funnel": saved.pk, "split": "device"}).content.decode()
    assert "Saved funnel <strong>Checkout path</strong>" in page and "Checkout Started" in page
    assert '<option value="%d" selected>Checkout path</option>' % saved.pk in page
    for data, reason in (({"name": "Checkout path", "steps": STEPS}, "already exists"),
                         ({"name": "Empty", "steps": ""}, "needs steps"),
                         ({"name": "One", "steps": "session"}, "at least two steps"),
                         ({"name": "Typo", "steps": "session\nCheckout Startd"}, "did you mean “Checkout Started”"),
                         ({"name": "", "steps": STEPS}, "required")):
        response = client.post(save, {**data, "csrfmiddlewaretoken": token})
        assert response.status_code == 400 and reason in response.content.decode(), data
    assert SavedFunnel.objects.count() == 1
    response = client.post(f"{save}{saved.pk}/", {"name": "Checkout path", "steps": "session\nCheckout Started",
                                                  "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.steps == [{"session": True}, {"event": "Checkout Started"}]
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.post(save, {"name": "X", "steps": STEPS}).status_code == 403
    assert support.post(f"{save}{saved.pk}/delete/").status_code == 403
    assert client.post(f"{save}{saved.pk}/delete/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert not SavedFunnel.objects.exists()
    assert client.post(f"{save}{saved.pk}/delete/", {"csrfmiddlewaretoken": token}).status_code == 404
