"""Recommendations where marketers put them: a Wagtail block on the store's pages, and an
e-mail block for campaigns (real PostgreSQL and Redis, after training on a small shop)."""

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from recommender.attribution import slot_report
from recommender.email import recommendations_block
from recommender.tokens import read_token
from recommender.training import train_version
from tests.helpers import fetch_deferred, place_order
from tracking.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]


def _slot_titles(html: str, slot: str) -> list[str]:
    """The product titles of the slot ``slot`` (links, or product cards) in ``html``."""
    section = re.search(rf'<section class="ecrm-slot[^>]*data-ecrm-slot-name="{slot}".*?</section>', html, re.S)
    assert section, f"no {slot} slot on the page"
    cards = re.findall(r'<h3 class="mt-3 h6">([^<]*)</h3>', section.group(0))
    return cards or re.findall(rf'data-ecrm-slot="{slot}">([^<]*)</a>', section.group(0))


def test_the_home_page_block_recommends_for_whoever_looks(shop, site_pages):
    products, users = shop
    version = train_version()
    customer = Client()
    customer.force_login(users[0])
    html = customer.get("/").content.decode()
    assert "Recommended for you" in html  # the home page's default block
    titles = _slot_titles(html, "for_you")
    assert titles[0] == "tea" and len(titles) == 4 and "teapot" not in titles and "saucer" not in titles
    token = html.split('data-ecrm-token="')[1].split('"')[0]
    assert read_token(token)["version"] == version.pk and read_token(token)["slot"] == "for_you"
    stranger = Client()
    shared = stranger.get("/").content.decode()  # no account, no cookie: popular products
    assert len(_slot_titles(shared, "for_you")) == 4
    (row,) = [r for r in slot_report(days=1) if r["slot"] == "for_you"]
    assert row["impressions"] == 4  # the page every stranger shares counts nothing itself…
    own = next(fragment for fragment in fetch_deferred(stranger, shared).values()  # …the stranger's own
               if 'data-ecrm-slot-name="for_you"' in fragment)  # slot, fetched after it, does
    assert len(_slot_titles(own, "for_you")) == 4
    (row,) = [r for r in slot_report(days=1) if r["slot"] == "for_you"]
    assert row["impressions"] == 8


def test_a_content_page_block_with_its_own_slot_heading_and_count(shop, site_pages):
    from shop.pages.models import ContentPage

    products, users = shop
    train_version()
    page = ContentPage.objects.get(slug="about")
    page.body = [("recommendations", {"slot": "discover", "heading": "New to you", "count": 2})]
    page.save_revision().publish()
    customer = Client()
    customer.force_login(users[0])
    html = customer.get(page.url).content.decode()
    assert "New to you" in html
    titles = _slot_titles(html, "discover")
    assert len(titles) == 2 and "tea" not in titles  # discover: never what they bought


def test_marketing_finds_the_block_in_the_page_editor(site_pages, make_staff):
    from shop.pages.models import HomePage
    from shop.roles import MARKETING

    marketing = Client()
    marketing.force_login(make_staff("m@example.com", group=MARKETING))
    editor = marketing.get(f"/cms/pages/{HomePage.objects.get().pk}/edit/")
    html = editor.content.decode()
    assert editor.status_code == 200 and "Recommendations" in html and "Recommended for you" in html
    assert "Discover" in html  # the slot choices reach the editor


def test_the_block_offers_only_slots_a_page_can_fill():
    from django.core.exceptions import ValidationError

    from recommender.wagtail_blocks import RecommendationsBlock, page_slot_choices

    slots = [slot for slot, _label in page_slot_choices()]
    assert "for_you" in slots and "bought_together" not in slots and "similar" not in slots and "upsell" not in slots
    assert {"buy_again", "complete_order", "trending"} <= set(slots)
    block = RecommendationsBlock()
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"slot": "bought_together", "heading": "x", "count": 4}))
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"slot": "for_you", "heading": "x", "count": 500}))


@pytest.fixture
def email_settings(settings, tmp_path):
    settings.RECOMMENDER_EMAIL_BASE_URL = "https://shop.example.com/"
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _image(product):
    from oscar.core.loading import get_model
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), "teal").save(buffer, format="JPEG")
    get_model("catalogue", "ProductImage").objects.create(
        product=product, original=SimpleUploadedFile("tea.jpg", buffer.getvalue(), content_type="image/jpeg"))


def test_the_email_block_has_absolute_links_with_tokens_images_and_prices(shop, email_settings):
    products, users = shop
    _image(products["tea"])
    version = train_version()
    block = recommendations_block(str(users[0].pk), email="welcome", k=3, heading="Picked for you",
                                  link_parameters={"utm_source": "email", "utm_campaign": "welcome"})
    assert block.slot == "email:welcome" and len(block.items) == 3
    first = block.items[0]
    assert first.title == "tea" and first.price == "£5.00"
    url = urlsplit(first.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "shop.example.com", products["tea"].get_absolute_url())
    query = parse_qs(url.query)
    assert query["utm_campaign"] == ["welcome"]
    assert read_token(query["ecrm_token"][0]) == {"version": version.pk, "slot": "email:welcome", "position": 1,
                                                  "product_id": str(products["tea"].pk)}
    assert [read_token(parse_qs(urlsplit(i.url).query)["ecrm_token"][0])["position"] for i in block.items] == [1, 2, 3]
    assert first.image_url.startswith("https://shop.example.com/media/") and first.image_url.endswith(".jpg")
    assert block.items[1].image_url == ""  # no image: the title and price carry it
    html = block.html
    assert html.startswith("<table") and 'role="presentation"' in html and "<div" not in html
    assert 'style="' in html and "<style" not in html and "class=" not in html  # inline styles only
    assert f'href="{first.url.replace("&", "&amp;")}"' in html and f'src="{first.image_url}"' in html
    assert html.count("<tr>") == 1 + 2  # the heading, then two rows of two columns
    assert block.text.startswith("Picked for you\n") and "- tea (£5.00)\n  https://shop.example.com/" in block.text
    assert "<" not in block.text


def test_email_clicks_and_orders_appear_in_the_slot_report(shop, email_settings):
    products, users = shop
    version = train_version()
    block = recommendations_block(str(users[1].pk), email="winback", k=2)
    assert not [r for r in slot_report(days=1) if r["slot"] == "email:preview"]
    recommendations_block(str(users[1].pk), email="preview", k=2, count_impressions=False)
    token = parse_qs(urlsplit(block.items[0].url).query)["ecrm_token"][0]
    now = timezone.now()  # the shopper follows the link; the tracker reports the token it landed with
    Event.objects.create(message_id="mail-click", type="track", event="Product Clicked", user_id=str(users[1].pk),
                         timestamp=now, received_at=now, source="browser", properties={"token": token})
    order = place_order(block.items[0].recommendation.product, user=users[1])
    rows = {r["slot"]: r for r in slot_report(days=1)}
    assert "email:preview" not in rows
    assert rows["email:winback"] == {"version": version.pk, "slot": "email:winback", "impressions": 2, "clicks": 1,
                                     "ctr": 0.5, "orders": 1,
                                     "revenue": float(order.lines.get().line_price_incl_tax)}


def test_email_block_bad_input_and_nothing_to_recommend(shop, email_settings):
    products, users = shop
    for name in ("", "Welcome Mail", "a.b", "x" * 41):
        with pytest.raises(ValueError, match="e-mail name"):
            recommendations_block("1", email=name)
    with pytest.raises(ValueError, match="k must be"):
        recommendations_block("1", email="welcome", k=0)
    nothing = recommendations_block(str(users[0].pk), email="welcome")  # nothing trained yet
    assert nothing.items == [] and nothing.html == "" and nothing.text == ""
