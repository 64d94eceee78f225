"""Promotions (a snippet with a variant per segment) on pages and in Oscar's templates, landing
pages, and Oscar's products and categories in Wagtail's choosers."""

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from ecrm.models import Profile, Segment
from ecrm.segments import static_members_set
from shop.roles import MARKETING
from tests.helpers import fetch_deferred

pytestmark = pytest.mark.django_db


@pytest.fixture
def promotion(db):
    from shop.pages.models import Promotion, PromotionVariant

    lapsed = Segment.objects.create(name="Lapsed", kind=Segment.STATIC)
    promo = Promotion.objects.create(name="Delivery", slug="free-delivery", heading="Free delivery",
                                     text="on orders over £50")
    PromotionVariant.objects.create(promotion=promo, segment=lapsed, heading="We miss you",
                                    text="10% off with COMEBACK10")
    return promo, lapsed


def _render(request) -> str:
    return Template('{% load storefront %}{% promotion "free-delivery" %}').render(Context({"request": request}))


def test_an_oscar_template_shows_the_visitors_promotion_variant(promotion, site_pages):
    from django.contrib.auth import get_user_model

    promo, lapsed = promotion
    user = get_user_model().objects.create_user("l", "l@example.com", "pw")
    request = RequestFactory().get("/basket/")
    request.user = user
    assert "Free delivery" in _render(request)
    static_members_set(lapsed, {Profile.objects.create(person_key=str(user.pk), user=user).pk})
    request = RequestFactory().get("/basket/")
    request.user = user
    html = _render(request)
    assert "We miss you" in html and "Free delivery" not in html and "data-ecrm-deferred" not in html
    promo.live = False
    promo.save()
    assert _render(request).strip() == ""
    assert Template('{% load storefront %}{% promotion "no-such" %}').render(Context({"request": request})).strip() == ""


def test_a_promotion_block_on_a_shared_page_is_fetched_for_the_visitor(promotion, site_pages):
    from django.contrib.auth import get_user_model

    from shop.pages.models import ContentPage
    from tracking.models import IdentityLink

    promo, lapsed = promotion
    page = ContentPage.objects.get(slug="delivery")
    page.body = [("promotion", {"promotion": promo}), ("text", "<p>Two days.</p>")]
    page.save_revision().publish()
    user = get_user_model().objects.create_user("m", "m@example.com", "pw")
    static_members_set(lapsed, {Profile.objects.create(person_key=str(user.pk), user=user).pk})
    from django.utils import timezone

    IdentityLink.objects.create(kind="anonymous", identifier="old-laptop", user_id=str(user.pk),
                                first_seen_at=timezone.now(), via="identify")
    visitor = Client()
    visitor.cookies["ecrm_aid"] = "old-laptop"
    html = visitor.get("/delivery/").content.decode()
    assert "Free delivery" in html and "We miss you" not in html  # the default, for everybody
    (own,) = fetch_deferred(visitor, html).values()
    assert "We miss you" in own


def test_a_landing_page_uses_the_home_page_blocks(site_pages, product_in_stock):
    from shop.pages.models import HomePage, LandingPage

    home = HomePage.objects.get()
    landing = home.add_child(instance=LandingPage(
        title="Winter sale", slug="winter-sale", intro="Up to 30% off.", show_navigation=False,
        body=[("banner", {"heading": "Ends Sunday", "text": "", "button_text": "", "button_url": "",
                          "style": "accent", "variants": []}),
              ("product_grid", {"heading": "Picked for winter", "products": [product_in_stock]})]))
    landing.save_revision().publish()
    response = Client().get("/winter-sale/")
    html = response.content.decode()
    assert response.status_code == 200 and "Ends Sunday" in html and "Picked for winter" in html
    assert product_in_stock.title in html and "£34.99" in html and "csrfmiddlewaretoken" not in html
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=60"


def test_marketing_chooses_oscar_products_and_categories_in_the_page_editor(site_pages, product_in_stock,
                                                                              make_staff):
    marketing = Client()
    marketing.force_login(make_staff("m@example.com", group=MARKETING))
    found = marketing.get("/cms/choose/product/results/", {"q": "skillet"})
    assert found.status_code == 200 and "Cast Iron Skillet" in found.content.decode()
    assert "Cast Iron Skillet" not in marketing.get("/cms/choose/product/results/", {"q": "teapot"}).content.decode()
    categories = marketing.get("/cms/choose/category/results/", {"q": "cook"})
    assert categories.status_code == 200 and "Cookware" in categories.content.decode()
    from shop.pages.models import HomePage

    editor = marketing.get(f"/cms/pages/add/pages/landingpage/{HomePage.objects.get().pk}/")
    html = editor.content.decode()
    assert editor.status_code == 200
    for label in ("Hero (targeted)", "Recommended for you", "Buy again", "Recently viewed", "Trending in a category",
                  "New arrivals for you", "Product grid (chosen products)", "Promotion (snippet)"):
        assert label in html, label
    assert marketing.get("/cms/snippets/pages/promotion/").status_code == 200


@pytest.mark.usefixtures("isolated")
def test_the_demo_storefront_is_arranged_once(site_pages, product_in_stock, client):
    from ecrm.models import Segment
    from shop.pages.models import HomePage, LandingPage, Promotion
    from shop.pages.setup import ensure_demo_storefront

    ensure_demo_storefront()
    ensure_demo_storefront()  # idempotent
    assert Promotion.objects.get(slug="free-delivery").variants.count() == 1
    assert set(Segment.objects.values_list("name", flat=True)) == {"Loyal customers", "Lapsed customers"}
    types = [block.block_type for block in HomePage.objects.get().body]
    assert types[:2] == ["hero", "promotion"] and {"for_you", "trending", "new_for_you"} <= set(types)
    assert LandingPage.objects.filter(slug="winter-sale", live=True).count() == 1
    html = client.get("/").content.decode()
    assert "Free delivery on orders over £50" in html
    assert product_in_stock.title in html  # new arrivals: the newest, without a trained model too
    assert client.get("/winter-sale/").status_code == 200


@pytest.mark.parametrize("value", [0, "60", True, -5])
def test_a_bad_shared_page_max_age_is_reported_by_the_checks(settings, value):
    from shop.pages.checks import check_settings

    settings.SHOP_SHARED_PAGE_MAX_AGE = value
    (error,) = check_settings()
    assert error.id == "shop.pages.E001" and "SHOP_SHARED_PAGE_MAX_AGE" in error.msg


def test_a_bad_slot_rendering_is_reported_by_the_checks(settings):
    from recommender.checks import check_settings

    settings.RECOMMENDER_SLOT_RENDERING = "sometimes"
    assert any("RECOMMENDER_SLOT_RENDERING" in error.msg for error in check_settings())
