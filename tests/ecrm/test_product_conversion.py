"""View → basket → purchase conversion per product and category, by hand."""

import pytest
from django.test import Client

from ecrm.dashboard.report_views import report_period
from ecrm.product_conversion import product_conversion, product_conversion_raw
from shop.roles import MARKETING, SUPPORT

pytestmark = pytest.mark.django_db


def test_conversion_by_product_and_category(product_in_stock, countries, make_staff):
    from tests.ecrm.test_traffic import at, send

    pid = str(product_in_stock.pk)
    n = 0
    messages = []
    for session, names in (("s1", ["Product Viewed", "Product Viewed", "Product Added"]), ("s2", ["Product Viewed"]),
                           ("s3", ["Product Viewed"]), ("s4", ["Product Viewed", "Product Added"])):
        for name in names:
            n += 1
            messages.append({"messageId": f"e{n}", "event": name, "anonymousId": session, "timestamp": at(n / 60),
                             "properties": {"product_id": pid}})
    messages.append({"messageId": "o1", "event": "Order Completed", "anonymousId": "s4", "timestamp": at(0.5),
                     "properties": {"order_id": "1", "total": 34.99, "products": [{"product_id": pid}]}})
    send(*messages)
    products, categories = product_conversion(*report_period(30))
    assert (products, categories) == product_conversion_raw(*report_period(30))
    (row,) = products
    assert (row["views"], row["adds"], row["orders"]) == (4, 2, 1)  # sessions viewing, sessions adding, orders
    assert (row["view_to_basket"], row["basket_to_purchase"], row["view_to_purchase"]) == (0.5, 0.5, 0.25)
    assert categories[0]["category"] == "Cookware" and categories[0]["views"] == 4

    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    page = client.get("/dashboard/customers/support-desk/reports/products/").content.decode()
    assert "Cast Iron Skillet 26cm" in page and "product-chart" in page and "50 %" in page
    csv = client.get("/dashboard/customers/support-desk/reports/products/?format=csv").content.decode()
    assert f"{pid},Cast Iron Skillet 26cm,Cookware,4,2,1,0.5000,0.5000,0.2500" in csv
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get("/dashboard/customers/support-desk/reports/products/").status_code == 403
