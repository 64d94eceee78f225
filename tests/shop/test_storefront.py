"""A visitor can browse the store: Wagtail pages and Oscar's catalogue, search and basket."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_page_is_served_by_wagtail_at_root(client, site_pages, product_in_stock):
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["page"].specific_class.__name__ == "HomePage"
    html = response.content.decode()
    assert "Made for the way you live" in html  # the hero block
    assert "Kitchen" in html  # the live category block reads Oscar's catalogue
    assert product_in_stock.title in html  # the new-arrivals block


@pytest.mark.parametrize(
    ("path", "text"),
    [("/about/", "About us"), ("/delivery/", "Delivery and returns"),
     ("/faq/", "Where is my order?")],
)
def test_content_pages_render(client, site_pages, path, text):
    response = client.get(path)
    assert response.status_code == 200
    assert text in response.content.decode()


def test_catalogue_lists_products(client, site_pages, product_in_stock):
    response = client.get("/catalogue/")
    assert response.status_code == 200
    assert product_in_stock.title in response.content.decode()


def test_product_page_shows_price_and_add_to_basket(client, site_pages, product_in_stock):
    response = client.get(product_in_stock.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert product_in_stock.title in html
    assert "£34.99" in html
    assert "Add to basket" in html


def test_search_finds_product_by_title_word(client, site_pages, product_in_stock):
    response = client.get("/search/", {"q": "skillet"})
    assert response.status_code == 200
    assert product_in_stock.title in response.content.decode()


def test_basket_shows_added_product(client, site_pages, product_in_stock):
    response = client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 2})
    assert response.status_code == 302
    response = client.get("/basket/")
    assert response.status_code == 200
    html = response.content.decode()
    assert product_in_stock.title in html
    assert "£69.98" in html


def test_unknown_page_is_a_404_not_a_500(client, site_pages):
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/catalogue/no-such-product_999999/").status_code == 404


def test_oscar_brand_link_points_at_wagtail_home(client, site_pages):
    response = client.get("/catalogue/")
    assert 'href="/"' in response.content.decode()
