"""Create the store's Wagtail pages once: the home page and its content pages.

Runs after ``migrate`` so that every database (demo, tests, production) has a
working home page at ``/``. It never overwrites pages that editors changed:
a page that already exists is left alone.
"""

from __future__ import annotations

from django.db import transaction

HOME_BODY = [
    {
        "type": "hero",
        "value": {
            "heading": "Made for the way you live",
            "text": "Kitchenware, garden tools, outdoor kit and everyday essentials, "
            "delivered in two days.",
            "button_text": "Browse the catalogue",
            "button_url": "/catalogue/",
        },
    },
    {"type": "categories", "value": {"heading": "Shop by category", "limit": 12}},
    {"type": "new_arrivals", "value": {"heading": "New arrivals", "category_slug": "", "limit": 8}},
    {"type": "recommendations", "value": {"slot": "for_you", "heading": "Recommended for you", "count": 4}},
]

CONTENT_PAGES = [
    {
        "slug": "about",
        "title": "About us",
        "intro": "An independent shop for home, garden and outdoors since 2011.",
        "body": [
            {"type": "text", "value": "<p>We choose every product ourselves, test it at home "
             "and keep only what we would buy again. Our team of twelve packs every order "
             "in our warehouse in Bristol.</p>"},
        ],
    },
    {
        "slug": "delivery",
        "title": "Delivery and returns",
        "intro": "Free delivery on orders over £50, and 30 days to change your mind.",
        "body": [
            {"type": "heading", "value": "Delivery"},
            {"type": "text", "value": "<p>Standard delivery takes 2–3 working days. Orders "
             "placed before 2pm on a working day leave our warehouse the same day. You get "
             "a tracking link by e-mail as soon as your parcel is shipped.</p>"},
            {"type": "heading", "value": "Returns"},
            {"type": "text", "value": "<p>Return any unused item within 30 days of delivery "
             "for a full refund. Refunds reach your account within 5 working days of the "
             "return arriving.</p>"},
        ],
    },
    {
        "slug": "faq",
        "title": "Frequently asked questions",
        "intro": "Answers to what customers ask us most.",
        "body": [
            {"type": "question", "value": {"question": "Where is my order?",
             "answer": "<p>Your order confirmation and shipping e-mails link to its status. "
             "Signed-in customers also see it under <a href=\"/accounts/orders/\">Order "
             "history</a>.</p>"}},
            {"type": "question", "value": {"question": "Can I change or cancel an order?",
             "answer": "<p>Yes, until it is shipped. Contact us with your order number.</p>"}},
            {"type": "question", "value": {"question": "Do you deliver abroad?",
             "answer": "<p>We deliver to the UK and most of Europe.</p>"}},
        ],
    },
]


def _ensure_tree_roots() -> None:
    """The default locale and the root page and collection, which Wagtail's migrations
    create; ``flush`` (used between transactional tests) removes them."""
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Collection, Locale, Page

    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root", live=True))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")


@transaction.atomic
def ensure_site_pages() -> None:
    """Make the default site's root a ``HomePage`` with About, Delivery and FAQ below it."""
    from wagtail.models import Page, Site

    from shop.pages.models import ContentPage, HomePage

    _ensure_tree_roots()
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        # Wagtail's initial data adds a plain "Welcome" page with the slug ``home``.
        for page in root.get_children().filter(slug="home"):
            if page.specific_class is Page:
                page.delete()
        root.refresh_from_db()
        home = root.add_child(
            instance=HomePage(title="Home", slug="home", body=HOME_BODY)
        )
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True,
            site_name="Oscar Outfitters",
        )
    elif site.root_page_id != home.id:
        site.root_page = home
        site.save()

    for spec in CONTENT_PAGES:
        if home.get_children().filter(slug=spec["slug"]).exists():
            continue
        page = home.add_child(instance=ContentPage(**spec))
        page.save_revision().publish()
        home.refresh_from_db()


def ensure_site_pages_after_migrate(sender, **kwargs) -> None:
    ensure_site_pages()
