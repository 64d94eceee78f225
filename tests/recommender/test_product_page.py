"""The shop's product page carries the recommender's three product-page slots — frequently
bought together, you may also like, recently viewed — each link with its slot's attribution
token; Oscar's own "Recommended items" list is not shown beside them (the slots merge it in
first), and the page still renders when nothing is trained."""

import re

import pytest
from django.test import Client
from oscar.core.loading import get_model

from recommender.tokens import read_token
from recommender.training import train_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]
ProductRecommendation = get_model("catalogue", "ProductRecommendation")


def test_the_product_page_shows_three_slots_with_tokens(shop):
    products, users = shop
    page = Client().get(products["tea"].get_absolute_url())
    assert page.status_code == 200 and b"data-ecrm-token" not in page.content  # nothing trained: no slot
    train_version()
    browser = Client()
    browser.force_login(users[0])
    html = browser.get(products["tea"].get_absolute_url()).content.decode()
    assert html.count('<section class="ecrm-slot') == 3
    for heading in ("Frequently bought together", "You may also like"):
        assert heading in html
    links = re.findall(r'data-ecrm-token="([^"]+)" data-ecrm-product="(\d+)" data-ecrm-slot="(\w+)"', html)
    # Recently viewed too: popular under "Popular right now" for a customer who viewed nothing yet.
    assert {slot for _token, _product, slot in links} == {"bought_together", "upsell", "recently_viewed"}
    for token, product_id, slot in links:
        decoded = read_token(token)
        assert decoded["slot"] == slot and str(decoded["product_id"]) == product_id
    assert str(products["tea"].pk) not in {product for _token, product, _slot in links}  # not the page's own


def test_oscars_recommended_items_come_through_the_slots_not_a_second_list(shop):
    products, _users = shop
    ProductRecommendation.objects.create(primary=products["tea"], recommendation=products["cup"], ranking=5)
    train_version()
    html = Client().get(products["tea"].get_absolute_url()).content.decode()
    assert "Recommended items" not in html and html.count('<section class="ecrm-slot') == 3
    links = re.findall(r'data-ecrm-product="(\d+)" data-ecrm-slot="(\w+)"', html)
    assert (str(products["cup"].pk), "bought_together") in links  # Oscar's manual pick, first source of the slot


def test_a_slots_html_is_reused_only_while_everything_in_it_is_the_same(shop):
    """The product page's slots come from a memo of rendered HTML (recommender.slot_html): a
    renamed product shows its new title at once, and the HTML is what the template renders."""
    from django.template.loader import render_to_string

    from recommender.slot_html import slot_links_html
    from recommender.templatetags.recommendations import slots_items

    products, _users = shop
    ProductRecommendation.objects.create(primary=products["tea"], recommendation=products["cup"], ranking=5)
    train_version()
    assert products["cup"].title in Client().get(products["tea"].get_absolute_url()).content.decode()
    products["cup"].title = "Cup, now in blue"
    products["cup"].save()
    html = Client().get(products["tea"].get_absolute_url()).content.decode()
    assert "Cup, now in blue" in html
    items = slots_items(None, ["bought_together"], product=products["tea"], k=4)["bought_together"]
    context = {"items": items, "slot": "bought_together", "title": "Goes with it", "fallback_title": "",
               "category": None}
    assert slot_links_html(items, slot="bought_together", title="Goes with it") == render_to_string(
        "recommender/partials/slot.html", context) != ""
