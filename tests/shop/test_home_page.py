"""The personalised home page: blocks marketers arrange, each with a fallback, the HTML every
anonymous visitor shares (cacheable) and the visitor's own blocks fetched after it, segment
targeting (real PostgreSQL and Redis, after training on a small shop)."""

import html as html_module
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ecrm.models import Profile, Segment
from ecrm.segments import static_members_set
from recommender.recent import recent_record
from recommender.tokens import read_token
from recommender.training import train_version
from tests.helpers import fetch_deferred
from tracking.models import IdentityLink

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]

PERSONAL_SLOTS = ("for_you", "buy_again", "recently_viewed", "new_arrivals")


def _arrange(blocks):
    from shop.pages.models import HomePage

    home = HomePage.objects.get()
    home.body = blocks
    home.save_revision().publish()
    return home


def _every_block(segment=None, category=None):
    hero = {"heading": "Made for the way you live", "text": "", "button_text": "", "button_url": "",
            "style": "light", "variants": []}
    if segment is not None:
        hero["variants"] = [{"segment": str(segment.pk), "heading": "Welcome back, VIP", "text": "", "button_text": "",
                             "button_url": "", "style": "dark"}]
    return [
        ("hero", hero),
        ("for_you", {"heading": "Recommended for you", "fallback_heading": "Popular right now", "count": 4}),
        ("buy_again", {"heading": "Buy again", "fallback_heading": "Customers' favourites", "count": 4}),
        ("recently_viewed", {"heading": "Recently viewed", "fallback_heading": "Popular right now", "count": 4}),
        ("trending", {"category": category, "heading": "", "count": 4}),
        ("new_for_you", {"heading": "New arrivals for you", "fallback_heading": "New arrivals", "count": 4}),
        ("text", "<p>Free delivery over £50.</p>"),
    ]


def _slot(html: str, slot: str) -> tuple[str, list[str]]:
    """(heading, product titles) of the slot ``slot`` in ``html``."""
    match = re.search(rf'<section class="ecrm-slot[^"]*" aria-label="([^"]*)" data-ecrm-slot-name="{slot}".*?</section>',
                      html, re.S)
    assert match, f"no {slot} slot in the page"
    return html_module.unescape(match.group(1)), re.findall(r'<h3 class="mt-3 h6">([^<]*)</h3>', match.group(0))


def _visitor(aid: str) -> Client:
    browser = Client()
    browser.cookies["ecrm_aid"] = aid
    return browser


def test_every_personal_block_has_a_fallback_for_a_new_visitor(shop, site_pages):
    from oscar.core.loading import get_model

    train_version()
    _arrange(_every_block(category=get_model("catalogue", "Category").objects.get(name="Cups")))
    stranger = Client()
    html = stranger.get("/").content.decode()
    for slot in PERSONAL_SLOTS:
        heading, titles = _slot(html, slot)
        assert titles, f"{slot} is empty for a new visitor"
    assert _slot(html, "recently_viewed")[0] == "Popular right now"  # not "Recently viewed": they saw nothing
    assert _slot(html, "new_arrivals")[0] == "New arrivals"
    heading, titles = _slot(html, "trending")
    # The category's own first (never the sold-out teapot nor the hidden saucer), then the store's.
    assert heading == "Trending in Cups" and set(titles[:2]) == {"cup", "mug"} and "teapot" not in titles
    own = fetch_deferred(stranger, html)  # what the page's script fetches: the same fallbacks, still full
    assert len(own) == 4 and all("<h3" in fragment for fragment in own.values())


def test_buy_again_shows_trending_where_nothing_can_be_bought_again(shop, site_pages):
    from recommender.models import RepurchasePolicy

    RepurchasePolicy.objects.all().delete()  # tea is bought once, like everything else now
    train_version()
    _arrange(_every_block())
    html = Client().get("/").content.decode()
    heading, titles = _slot(html, "trending")
    assert heading == "Customers' favourites" and len(titles) == 4  # the buy-again block, never empty


def test_the_page_anonymous_visitors_share_is_the_same_for_all_and_cacheable(shop, site_pages):
    products, _users = shop
    train_version()
    _arrange(_every_block())
    recent_record({"anon:seen-a-cup": [(1.0, f"{products['cup'].pk}|view|{1_700_000_000}")]})
    first, second = _visitor("seen-a-cup").get("/"), _visitor("never-seen").get("/")
    assert first.content == second.content  # their history changes nothing in the HTML…
    assert first["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert "Cookie" not in first.get("Vary", "") and not first.cookies  # …nor a cookie, nor the cache key
    html = first.content.decode()
    assert "csrfmiddlewaretoken" not in html
    assert html.count("data-ecrm-deferred-url") == 4  # the four personal blocks, fetched after the page
    own = fetch_deferred(_visitor("seen-a-cup"), html)
    recently = next(fragment for fragment in own.values() if 'data-ecrm-slot-name="recently_viewed"' in fragment)
    assert _slot(recently, "recently_viewed") == ("Recently viewed", ["cup"])
    assert "data-ecrm-deferred" not in "".join(own.values())  # the visitor's own are final


def test_session_slots_follow_what_the_visitor_just_viewed(shop, site_pages):
    products, _users = shop
    train_version()
    _arrange(_every_block())
    visitor = _visitor("browsing-now")
    before = fetch_deferred(visitor, visitor.get("/").content.decode())
    recent_record({"anon:browsing-now": [(1.0, f"{products['cup'].pk}|view|1700000000"),
                                         (2.0, f"{products['green-tea'].pk}|view|1700000060")]})
    after = fetch_deferred(visitor, visitor.get("/").content.decode())
    assert before != after
    for_you = next(fragment for fragment in after.values() if 'data-ecrm-slot-name="for_you"' in fragment)
    assert "Because you viewed" in for_you
    assert _slot("".join(after.values()), "recently_viewed")[1] == ["green-tea", "cup"]  # newest first


def test_a_signed_in_customer_gets_their_own_page_privately_in_one_request(shop, site_pages):
    _products, users = shop
    version = train_version()
    _arrange(_every_block())
    customer = Client()
    customer.force_login(users[0])
    response = customer.get("/")
    html = response.content.decode()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "data-ecrm-deferred" not in html  # everything is theirs already
    heading, titles = _slot(html, "buy_again")
    assert heading == "Buy again" and titles[0] == "tea"
    token = re.search(r'data-ecrm-token="([^"]+)" data-ecrm-product="\d+" data-ecrm-slot="buy_again"', html).group(1)
    assert read_token(token)["slot"] == "buy_again" and read_token(token)["version"] == version.pk


def test_a_targeted_hero_shows_the_visitors_segment_variant(shop, site_pages):
    _products, users = shop
    vip = Segment.objects.create(name="VIP", kind=Segment.STATIC)
    _arrange(_every_block(segment=vip)[:1])
    member = Profile.objects.create(person_key=str(users[1].pk), user=users[1])
    customer = Client()
    customer.force_login(users[1])
    assert "Made for the way you live" in customer.get("/").content.decode()
    static_members_set(vip, {member.pk})
    html = customer.get("/").content.decode()
    assert "Welcome back, VIP" in html and "Made for the way you live" not in html
    # Signed out on their phone, linked to their account: the shared page shows the default,
    # the fragment their variant.
    IdentityLink.objects.create(kind="anonymous", identifier="their-phone", user_id=str(users[1].pk),
                                first_seen_at=timezone.now(), via="identify")
    phone = _visitor("their-phone")
    shared = phone.get("/").content.decode()
    assert "Made for the way you live" in shared and "Welcome back, VIP" not in shared
    (own,) = fetch_deferred(phone, shared).values()
    assert "Welcome back, VIP" in own
    (stranger,) = fetch_deferred(_visitor("someone-else"), shared).values()
    assert "Made for the way you live" in stranger


def test_resolving_a_visitors_segments_is_one_query(shop):
    from ecrm.selectors import visitor_segment_ids

    _products, users = shop
    with CaptureQueriesContext(connection) as signed_in:
        visitor_segment_ids(user_id=str(users[0].pk))
    with CaptureQueriesContext(connection) as anonymous:
        visitor_segment_ids(anonymous_id="phone-1")
    with CaptureQueriesContext(connection) as unknown:
        visitor_segment_ids()
    assert (len(signed_in), len(anonymous), len(unknown)) == (1, 1, 0)


@pytest.mark.parametrize(("query", "reason"), [
    ("", "at least one fragment"),
    ("?f=b:nope", "page=<id>"),
    ("?page=999999&f=b:nope", "no live page"),
    ("?f=x:1", "a fragment is"),
    ("?f=p:999999", "no such promotion"),
])
def test_bad_page_fragment_requests_are_a_400_with_the_reason(client, site_pages, query, reason):
    response = client.get(f"/pages/fragments/{query}")
    assert response.status_code == 400 and reason in response.json()["error"]


@pytest.mark.parametrize(("key", "reason"), [
    ("slot=nope", "unknown slot"), ("slot=for_you&k=99", "k must be"), ("slot=similar", "needs a product"),
    ("slot=for_you&style=huge", "unknown style"), ("slot=trending&category=abc", "must be an id"),
])
def test_bad_slot_fragment_requests_are_a_400_with_the_reason(client, site_pages, key, reason):
    response = client.get("/recommendations/fragments/", {"f": key})
    assert response.status_code == 400 and reason in response.json()["error"]


def test_a_shared_page_that_sets_a_cookie_after_all_is_not_shared():
    from django.http import HttpResponse
    from django.test import RequestFactory

    from shop.pages.caching import SharedPageMiddleware, mark_shared

    def page_with(cookie):
        def view(request):
            response = HttpResponse("page")
            mark_shared(response)
            response["Vary"] = "Cookie, Accept-Language"
            response.set_cookie("ecrm_aid", "new-visitor")
            if cookie:
                response.set_cookie(cookie, "secret")
            return response
        return SharedPageMiddleware(view)(RequestFactory().get("/"))

    clean = page_with(None)
    assert clean["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert clean["Vary"] == "Accept-Language" and not clean.cookies  # the tracker sets its id itself
    leaked = page_with("csrftoken")
    control = leaked["Cache-Control"]
    assert "private" in control and "no-store" in control and "public" not in control
