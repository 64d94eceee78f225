"""A broadcast's e-mail filled in from its skeleton (campaigns.skeleton) is exactly the
e-mail the per-message Django render gives — subject, HTML with its tracked links and pixel,
plain text, unsubscribe link — for ordinary and awkward recipients; templates with
per-recipient logic fall back to the full render; the message's one token drives the
pixel, the click links and the one-click unsubscribe (real PostgreSQL, Redis and a
trained recommender)."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import Client
from oscar.core.loading import get_model

from campaigns import rendering
from campaigns.broadcasts import broadcast_schedule, broadcasts_run
from campaigns.engagement import CLICK_SALT, OPEN_SALT, read_click_token, read_open_token, url_digest
from campaigns.models import Message, MessageClick
from campaigns.render_batch import rendering_batch
from campaigns.rendering import build_email, message_context, render
from ecrm.consents import has_consent
from recommender.training import train_version
from tests.campaigns.broadcast_helpers import broadcast

pytestmark = pytest.mark.django_db
CommunicationEventType = get_model("communication", "CommunicationEventType")
GUIDE_HTML = """<html><body>
<h1>{{ broadcast.name|upper }}</h1>
<p>Hello {{ customer.first_name|default:"there" }} {{ customer.last_name }}!</p>
{% for word in "ab" %}<i>{{ word }}</i>{% endfor %}
{% with shop=shop_name %}<p>{{ shop }} writes to {{ customer.email }}</p>{% endwith %}
{% if broadcast %}<p title="{{ customer.last_name }}">Because you asked</p>{% endif %}
{{ recommendations.html|safe }}
<p><a href="https://shop.example.com/offers/?a=1&amp;b=2">Offers</a> <a href="mailto:help@example.com">Help</a></p>
<p style="font-size:12px"><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body></html>"""
NAMES = [("Zoë", "Smith"), ("Seán", "O'Brien & <Co>"), ("", ""), ("Ann", "  spaced   out "),
         ("https://evil.example/", "Lee")]


def _full(message, monkeypatch) -> dict:
    """The per-message Django render (the skeleton switched off for this call)."""
    with monkeypatch.context() as patch:
        patch.setattr(rendering, "SKELETON_KINDS", set())
        return render(message)


def _broadcast_of(shop, code: str, html: str, subject: str = "Gifts for {{ customer.first_name }}", body=""):
    from ecrm.models import Consent, Profile, Segment
    from ecrm.segments import static_members_set
    from ecrm.services import profiles_refresh

    _products, users = shop
    if html is not None:
        CommunicationEventType.objects.create(code=code, name=code, category=CommunicationEventType.USER_RELATED,
                                              email_subject_template=subject, email_body_template=body,
                                              email_body_html_template=html)
    profiles_refresh(person_keys={str(user.pk) for user in users})
    people = list(Profile.objects.filter(person_key__in=[str(user.pk) for user in users]).exclude(email="")
                  .order_by("pk"))
    for n, person in enumerate(people):
        person.first_name, person.last_name = NAMES[n % len(NAMES)]
        person.save(update_fields=["first_name", "last_name"])
        Consent.objects.create(profile=person, channel="email", topic="all", granted=True, source="test")
    segment = Segment.objects.create(name=f"Everybody {code}", kind=Segment.STATIC)
    static_members_set(segment, {p.pk for p in people})
    b = broadcast_schedule(broadcast=broadcast(segment, template=code))
    broadcasts_run()
    messages = list(Message.objects.filter(campaign=b.campaign).order_by("pk"))
    assert len(messages) >= len(NAMES)
    return messages


@pytest.fixture
def configured(settings):
    settings.CAMPAIGNS_QUIET_HOURS = None
    settings.RECOMMENDER_EMAIL_BASE_URL = settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    settings.ALLOWED_HOSTS = ["shop.example.com", "testserver"]


def test_the_filled_skeleton_is_the_per_message_render(shop, isolated, configured, monkeypatch):
    train_version()
    messages = _broadcast_of(shop, "SK_GUIDE", GUIDE_HTML, subject="Gifts for {{ customer.first_name|default:'you' }}"
                                                                   "{% if broadcast %} ({{ broadcast.name }}){% endif %}")
    with rendering_batch([m.pk for m in messages]):
        filled = {m.pk: rendering._from_skeleton(m, message_context(m)) for m in messages}
    assert all(filled.values()), "every recipient here is filled in from the skeleton"
    for message in messages:
        expected = _full(message, monkeypatch)
        assert filled[message.pk] == expected
        assert render(message) == expected
    sample = filled[messages[1].pk]  # O'Brien & <Co>: escaped in the HTML, plain in the text
    assert "O&#x27;Brien &amp; &lt;Co&gt;" in sample["html"] and "O'Brien & <Co>" in sample["text"]
    assert len({f["html"] for f in filled.values()}) == len(messages)
    assert all(f["html"].count("ecrm_token%3D") >= 2 for f in filled.values())  # their own recommendations


def test_templates_with_per_recipient_logic_are_rendered_in_full(shop, isolated, configured, monkeypatch):
    train_version()
    cases = {
        "SK_LOOP_IF": "<html><body>{% for w in 'ab' %}{% if customer.first_name == w %}<p>{{ w }}</p>{% endif %}"
                      "{% endfor %}<p>x</p></body></html>",
        "SK_FOR": "<html><body>{% for item in recommendations.items %}<p>{{ item.title }}</p>{% endfor %}"
                  "<p>x</p></body></html>",
        "SK_LINK": '<html><body><p><a href="https://shop.example.com/?n={{ customer.first_name }}">Go</a>'
                   "</p></body></html>",
        "SK_FILTER": "<html><body><p>{% filter upper %}{{ customer.first_name }}{% endfilter %}</p></body></html>",
        "SK_ARG": "<html><body><p>{{ broadcast.name|default:customer.first_name }}</p></body></html>",
    }
    for code, html in cases.items():
        messages = _broadcast_of(shop, code, html)
        for message in messages[:3]:
            assert rendering._from_skeleton(message, message_context(message)) is None, code
            assert render(message) == _full(message, monkeypatch), code


def test_conditions_on_personal_data_make_one_skeleton_per_recipient_group(shop, isolated, configured,
                                                                           monkeypatch):
    train_version()
    html = ("<html><body>\n<p>{% if customer.first_name %}Hi {{ customer.first_name }}{% elif customer.last_name %}"
            "Dear {{ customer.last_name }}{% else %}Hello{% endif %},</p>\n"
            "{% if recommendations %}{% if broadcast %}<h2>For you</h2>{% endif %}{{ recommendations.html|safe }}"
            "{% endif %}\n<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>\n</body></html>")
    messages = _broadcast_of(shop, "SK_IF", html)
    for message in messages:
        filled = rendering._from_skeleton(message, message_context(message))
        assert filled is not None and filled == _full(message, monkeypatch)
    assert {"Hi Zo\u00eb,", "Hello,"} <= {line for m in messages for line in render(m)["text"].splitlines()}


def test_oscar_file_templates_use_the_skeleton(shop, isolated, configured, monkeypatch):
    """An event type whose text lives in files (commtype_<code>_*.html/.txt, extending the
    campaigns' base template, with ``{% if customer.first_name %}`` and a body part)."""
    train_version()
    from django.template.loader import get_template

    code = "CAMPAIGN_WIN_BACK"
    get_template(f"oscar/communication/emails/commtype_{code.lower()}_body.html")  # the file exists
    event_type = CommunicationEventType.objects.get(code=code)
    assert event_type.email_body_html_template is None  # from the files
    messages = _broadcast_of(shop, code, html=None, subject=None, body=None)
    for message in messages:
        expected = _full(message, monkeypatch)
        assert rendering._from_skeleton(message, message_context(message)) == expected
        assert render(message) == expected
        assert expected["text"].strip() and expected["html"]


def test_an_oscar_file_template_without_per_recipient_logic_is_filled_in(shop, isolated, configured, monkeypatch,
                                                                        settings, tmp_path):
    """Files extending a base template, a body text part and an include: from the skeleton."""
    emails = tmp_path / "oscar" / "communication" / "emails"
    emails.mkdir(parents=True)
    (tmp_path / "sk_footer.html").write_text('<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>')
    (emails / "commtype_sk_files_subject.txt").write_text("News for {{ customer.first_name|default:'you' }}")
    (emails / "commtype_sk_files_body.txt").write_text("Hello {{ customer.first_name }},\n\n"
                                                       "{{ recommendations.text }}\nUnsubscribe: {{ unsubscribe_url }}")
    (emails / "commtype_sk_files_body.html").write_text(
        '{% extends "campaigns/email/base.html" %}{% block content %}<p>Hello {{ customer.first_name }},</p>\n'
        '{{ recommendations.html|safe }}\n{% include "sk_footer.html" %}{% endblock %}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    train_version()
    CommunicationEventType.objects.create(code="SK_FILES", name="Files", category=CommunicationEventType.USER_RELATED)
    messages = _broadcast_of(shop, "SK_FILES", html=None)
    for message in messages:
        filled = rendering._from_skeleton(message, message_context(message))
        expected = _full(message, monkeypatch)
        assert filled == expected
        assert "Unsubscribe: https://shop.example.com/campaigns/unsubscribe/" in expected["text"]


def test_one_token_per_message_drives_pixel_clicks_and_unsubscribe(shop, isolated, configured):
    train_version()
    message = _broadcast_of(shop, "SK_TOKENS", GUIDE_HTML)[0]
    rendered = render(message)
    email = build_email(message, rendered)
    token = re.search(r"/campaigns/o/([^\"]+)\.gif", rendered["html"]).group(1)
    assert read_open_token(token) == message.pk
    assert email.extra_headers["List-Unsubscribe"] == f"<https://shop.example.com/campaigns/unsubscribe/{token}/>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = re.findall(r'href="(https://shop\.example\.com/campaigns/c/[^"]+)"', rendered["html"])
    assert links and all(f"/c/{token}~" in link for link in links)
    path = links[0].replace("&amp;", "&").removeprefix("https://shop.example.com")
    response = Client().get(path, HTTP_USER_AGENT="Mozilla/5.0")
    assert response.status_code == 302 and response["Location"].startswith("https://shop.example.com/")
    assert MessageClick.objects.filter(message=message).count() == 1
    # Another message's token with this link's signature: the link is still only ever its URL.
    forged = path.replace(f"/c/{token}~", "/c/1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA~")
    assert Client().get(forged).status_code == 400
    other = re.sub(r"u=[^&]+", "u=https%3A%2F%2Fevil.example%2F", path)
    assert Client().get(other).status_code == 400
    # The one-click unsubscribe works from the message's own token, with no session.
    response = Client().post(f"/campaigns/unsubscribe/{token}/", "List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    from ecrm.models import Profile

    assert not has_consent(Profile.objects.get(person_key=message.person_key), "email", "newsletter")


def test_tokens_of_the_earlier_form_still_verify():
    click = signing.Signer(salt=CLICK_SALT).sign(f"42.{url_digest('https://shop.example.com/a')}")
    assert read_click_token(click) == (42, url_digest("https://shop.example.com/a"))
    assert read_open_token(signing.Signer(salt=OPEN_SALT).sign("42")) == 42
    assert read_click_token("42:bad~x:bad") is None and read_open_token("42:bad") is None
