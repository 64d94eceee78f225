"""The shop's product page carries the recommender's three product-page slots, each link
with its slot's attribution token, and still renders when nothing is trained."""

import re

import pytest
from django.test import Client

from recommender.tokens import read_token
from recommender.training import train_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]


def test_the_product_page_shows_three_slots_with_tokens(shop):
    products, users = shop
    page = Client().get(products["tea"].get_absolute_url())
    assert page.status_code == 200 and b"data-ecrm-token" not in page.content  # nothing trained: no slot
    train_version()
    browser = Client()
    browser.force_login(users[0])
    html = browser.get(products["tea"].get_absolute_url()).content.decode()
    for heading in ("Frequently bought together", "You may also like", "Recommended for you"):
        assert heading in html
    links = re.findall(r'data-ecrm-token="([^"]+)" data-ecrm-product="(\d+)" data-ecrm-slot="(\w+)"', html)
    # Recently viewed too: popular under "Popular right now" for a customer who viewed nothing yet.
    assert {slot for _token, _product, slot in links} == {"bought_together", "upsell", "discover", "recently_viewed"}
    for token, product_id, slot in links:
        decoded = read_token(token)
        assert decoded["slot"] == slot and str(decoded["product_id"]) == product_id
    assert str(products["tea"].pk) not in {product for _token, product, _slot in links}  # not the page's own
