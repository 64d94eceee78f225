"""Write the generated catalogue and customers into Oscar's tables.

Catalogue and customers are not behaviour, so they are written in bulk for
speed; everything customers *do* goes through ``shop.demo.sink`` instead.
Each writer skips rows that already exist (keyed by UPC or e-mail), which
makes re-running the seed add nothing.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_model

from recommender.models import RepurchasePolicy
from shop.demo.accounts import CUSTOMER_PASSWORD, DEMO_ACCOUNTS
from shop.demo.generate import CustomerSpec, ProductSpec
from shop.demo.images import product_card
from shop.roles import sync_role_groups

Country = get_model("address", "Country")
UserAddress = get_model("address", "UserAddress")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")

PARTNER_NAME = "Oscar Outfitters Warehouse"
ATTRIBUTES = ("brand", "material", "colour", "size")  # colour: not for consumables


def ensure_countries() -> None:
    """Oscar's countries (shipping to all), once: checkout needs them."""
    if not Country.objects.exists():
        # Oscar's command reports on stdout whatever the verbosity.
        call_command("oscar_populate_countries", "--initial-only", verbosity=0, stdout=io.StringIO())
    Country.objects.filter(iso_3166_1_a2="GB").update(display_order=1)


def ensure_staff() -> list[dict]:
    """The demo's staff accounts, in their role groups."""
    groups = sync_role_groups()
    User = get_user_model()
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            email=account["email"],
            defaults={"username": account["email"], "first_name": account["first_name"],
                      "last_name": account["last_name"]},
        )
        user.is_staff = True
        user.is_superuser = account["superuser"]
        if created or not user.check_password(account["password"]):
            user.set_password(account["password"])
        user.save()
        if account["group"]:
            user.groups.set([groups[account["group"]]])
    return DEMO_ACCOUNTS


def class_name(root: str, consumable: bool) -> str:
    """Product classes split what is bought again (tea, seeds: "Kitchen consumables") from
    what is bought once (a pan: "Kitchen goods"), so the recommender's repeat-purchase
    policy, which is per class, fits the catalogue."""
    return f"{root} {'consumables' if consumable else 'goods'}"


def ensure_catalogue(specs: list[ProductSpec]) -> tuple[dict[str, object], int]:
    """Products with categories, attributes, a picture and a stock record; returns (by UPC, new)."""
    existing = set(Product.objects.filter(upc__in=[s.upc for s in specs]).values_list("upc", flat=True))
    new = [s for s in specs if s.upc not in existing]
    if new:
        partner, _ = Partner.objects.get_or_create(name=PARTNER_NAME)
        classes, attributes = {}, {}
        for root, consumable in sorted({(s.root, bool(s.reorder_days)) for s in new}):
            product_class, _ = ProductClass.objects.get_or_create(
                name=class_name(root, consumable), defaults={"requires_shipping": True, "track_stock": True}
            )
            if consumable:  # recommended again to people who bought them; merchandisers may change it
                RepurchasePolicy.objects.get_or_create(product_class=product_class,
                                                       defaults={"can_be_bought_again": True})
            classes[root, consumable] = product_class
            for code in ATTRIBUTES:
                attributes[product_class.pk, code], _ = ProductAttribute.objects.get_or_create(
                    product_class=product_class, code=code,
                    defaults={"name": code.title(), "type": ProductAttribute.TEXT},
                )
        categories = {path: create_from_breadcrumbs(path) for path in sorted({s.category_path for s in new})}
        Product.objects.bulk_create([
            Product(upc=s.upc, title=s.title, slug=_slug(s), description=s.description,
                    product_class=classes[s.root, bool(s.reorder_days)], structure=Product.STANDALONE,
                    is_public=True)
            for s in new
        ])
        by_upc = {p.upc: p for p in Product.objects.filter(upc__in=[s.upc for s in new])}
        ProductCategory.objects.bulk_create([
            ProductCategory(product=by_upc[s.upc], category=categories[s.category_path]) for s in new
        ])
        ProductAttributeValue.objects.bulk_create([
            ProductAttributeValue(product=by_upc[s.upc],
                                  attribute=attributes[classes[s.root, bool(s.reorder_days)].pk, code],
                                  value_text=s.attributes[code])
            for s in new for code in ATTRIBUTES if code in s.attributes
        ])
        StockRecord.objects.bulk_create([
            StockRecord(product=by_upc[s.upc], partner=partner, partner_sku=s.upc,
                        price_currency="GBP", price=s.price, low_stock_threshold=5,
                        num_in_stock=max(s.stock, 0), num_allocated=0)
            for s in new
        ])
        ProductImage.objects.bulk_create([
            ProductImage(product=by_upc[s.upc], display_order=0, caption=s.title,
                         original=default_storage.save(
                             f"images/products/demo/{s.upc.lower()}.jpg",
                             ContentFile(product_card(title=s.title, brand=s.brand,
                                                      category=s.category_path))))
            for s in new
        ])
    all_products = Product.objects.filter(upc__in=[s.upc for s in specs]).prefetch_related(
        "stockrecords", "categories")
    return {p.upc: p for p in all_products}, len(new)


def _slug(spec: ProductSpec) -> str:
    from django.utils.text import slugify

    return slugify(spec.title)[:120]


def restock(specs: list[ProductSpec]) -> None:
    """After the simulated sales, leave each product with its planned available stock."""
    records = StockRecord.objects.filter(product__upc__in=[s.upc for s in specs]).select_related("product")
    planned = {s.upc: s.stock for s in specs}
    for record in records:
        record.num_in_stock = (record.num_allocated or 0) + planned[record.product.upc]
    StockRecord.objects.bulk_update(records, ["num_in_stock"], batch_size=500)


@lru_cache(maxsize=1)
def customer_password_hash() -> str:
    """One hash for every demo customer, once per run: hashing is slow on purpose."""
    return make_password(CUSTOMER_PASSWORD)


def create_customers(specs: list[CustomerSpec], *, start: datetime) -> dict[int, object]:
    """Create the customers that do not exist yet; returns {customer index: user} for new ones."""
    User = get_user_model()
    existing = set(User.objects.filter(email__in=[s.email for s in specs]).values_list("email", flat=True))
    new = [s for s in specs if s.email not in existing]
    if not new:
        return {}
    password = customer_password_hash()
    User.objects.bulk_create([
        User(username=s.email, email=s.email, first_name=s.first_name, last_name=s.last_name,
             password=password, date_joined=start + timedelta(days=s.signup_day, hours=9))
        for s in new
    ])
    users = {u.email: u for u in User.objects.filter(email__in=[s.email for s in new])}
    gb = Country.objects.get(iso_3166_1_a2="GB")
    addresses = []
    for s in new:
        address = UserAddress(
            user=users[s.email], first_name=s.first_name, last_name=s.last_name, line1=s.line1,
            line4=s.city, postcode=s.postcode, country=gb, phone_number=s.phone,
            is_default_for_shipping=True, is_default_for_billing=True,
        )
        address.hash = address.generate_hash()
        address._update_search_text()
        addresses.append(address)
    UserAddress.objects.bulk_create(addresses)
    return {s.index: users[s.email] for s in new}
