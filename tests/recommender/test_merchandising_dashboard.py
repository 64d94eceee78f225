"""Recommender → Merchandising and Repeat purchase in Oscar's dashboard: who may do what,
CSRF, and bad input answered with a 400 and the reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from recommender.models import MerchandisingRule, RepurchasePolicy
from shop.roles import MARKETING, SUPPORT

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated")]
RULES = "/dashboard/recommender/merchandising/"
POLICIES = "/dashboard/recommender/repeat-purchase/"


@pytest.fixture
def products():
    from oscar.test.factories import create_product

    return {name: create_product(title=name, upc=name.upper(), price=Decimal("5.00"), num_in_stock=5,
                                 product_class=cls)
            for name, cls in (("kettle", "Appliances"), ("cup", "Homeware"), ("tea", "Tea"))}


def _client(make_staff, email, group=None, superuser=False, csrf=False):
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(make_staff(email, group=group, superuser=superuser))
    return client


def _csrf(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value


def test_marketing_pins_edits_and_deletes_with_csrf_and_the_pages_look_like_oscar(products, make_staff):
    client = _client(make_staff, "m@example.com", MARKETING, csrf=True)
    token = _csrf(client, RULES + "new/?action=pin")
    # The product pickers (Oscar's select2 widget) search through Oscar's lookup, open to Marketing.
    lookup = client.get("/dashboard/catalogue/product-lookup/", {"q": "cup"})
    assert lookup.status_code == 200 and [r["text"] for r in lookup.json()["results"]] == ["cup"]
    response = client.post(RULES + "new/", {"csrfmiddlewaretoken": token, "action": "pin",
                                            "product": products["cup"].pk, "slot": "upsell",
                                            "on_product": products["kettle"].pk, "position": 2, "note": "launch"})
    assert response.status_code == 302
    rule = MerchandisingRule.objects.get()
    assert (rule.action, rule.slot, rule.on_product, rule.position, rule.created_by.email) == (
        "pin", "upsell", products["kettle"], 2, "m@example.com")
    page = client.get(RULES).content.decode()
    assert "oscar" in page.lower() and "Merchandising" in page and "launch" in page and "page of" in page
    assert 'href="/dashboard/recommender/merchandising/"' in client.get("/dashboard/").content.decode()  # the menu
    token = _csrf(client, f"{RULES}{rule.pk}/")
    assert client.post(f"{RULES}{rule.pk}/", {"csrfmiddlewaretoken": token, "action": "ban",
                                              "product": products["cup"].pk, "slot": "",
                                              "position": 1}).status_code == 302
    assert MerchandisingRule.objects.get().action == "ban"
    assert client.post(f"{RULES}{rule.pk}/delete/").status_code == 403  # no CSRF token
    assert client.post(f"{RULES}{rule.pk}/delete/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert not MerchandisingRule.objects.exists()
    assert client.post(f"{RULES}{rule.pk}/delete/", {"csrfmiddlewaretoken": token}).status_code == 404


def test_bad_rules_are_refused_with_the_reason(products, make_staff):
    client = _client(make_staff, "m@example.com", MARKETING)
    now = timezone.now()
    base = {"action": "pin", "product": products["cup"].pk, "slot": "", "position": 1}
    hidden = products["tea"]
    hidden.is_public = False
    hidden.save()
    for change, reason in (
            ({"slot": "everywhere"}, "Select a valid choice"),
            ({"action": "boost"}, "Select a valid choice"),
            ({"product": 987654}, "Select a valid choice"),
            ({"product": ""}, "This field is required"),
            ({"position": 0}, "greater than or equal to 1"),
            ({"position": 99}, "less than or equal to 24"),
            ({"on_product": products["cup"].pk}, "never recommended on its own page"),
            ({"starts_at": (now + timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
              "ends_at": now.strftime("%Y-%m-%d %H:%M")}, "The end must come after the start"),
            ({"product": hidden.pk}, "not public")):
        response = client.post(RULES + "new/", {**base, **change})
        assert response.status_code == 400 and reason in response.content.decode(), change
    assert not MerchandisingRule.objects.exists()
    assert client.get(RULES + "987654/").status_code == 404


@pytest.mark.parametrize("method,url", [("get", RULES), ("get", RULES + "new/"), ("post", RULES + "new/"),
                                        ("get", POLICIES), ("post", POLICIES)])
def test_support_may_not_touch_merchandising_and_visitors_must_log_in(method, url, products, make_staff):
    support = _client(make_staff, "s@example.com", SUPPORT)
    assert getattr(support, method)(url).status_code == 403
    anonymous = getattr(Client(), method)(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    admin = _client(make_staff, "a@example.com", superuser=True)
    if method == "get":
        assert getattr(admin, method)(url).status_code == 200


def test_support_may_not_delete_or_edit_a_rule(products, make_staff):
    rule = MerchandisingRule.objects.create(action="ban", product=products["cup"])
    support = _client(make_staff, "s@example.com", SUPPORT)
    assert support.post(f"{RULES}{rule.pk}/delete/").status_code == 403
    assert support.post(f"{RULES}{rule.pk}/", {"action": "pin", "product": products["cup"].pk}).status_code == 403
    assert MerchandisingRule.objects.get().action == "ban"
    assert "merchandising" not in support.get("/dashboard/").content.decode()  # not in their menu


def test_marketing_sets_which_classes_can_be_bought_again(products, make_staff, settings):
    settings.RECOMMENDER_REPEATABLE_DEFAULT = False
    client = _client(make_staff, "m@example.com", MARKETING, csrf=True)
    tea_class, kettle_class = products["tea"].product_class, products["kettle"].product_class
    cup_class = products["cup"].product_class
    RepurchasePolicy.objects.create(product_class=cup_class, can_be_bought_again=True)
    page = client.get(POLICIES).content.decode()
    assert "Tea" in page and "Appliances" in page and "are bought once" in page
    token = _csrf(client, POLICIES)
    data = {"csrfmiddlewaretoken": token, f"class_{tea_class.pk}": "yes", f"class_{kettle_class.pk}": "no",
            f"class_{cup_class.pk}": "default"}
    assert client.post(POLICIES, {k: v for k, v in data.items() if k != "csrfmiddlewaretoken"}).status_code == 403
    assert client.post(POLICIES, data).status_code == 302
    assert dict(RepurchasePolicy.objects.values_list("product_class__name", "can_be_bought_again")) == {
        "Tea": True, "Appliances": False}
    bad = client.post(POLICIES, {**data, f"class_{tea_class.pk}": "sometimes"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    assert RepurchasePolicy.objects.get(product_class=tea_class).can_be_bought_again
