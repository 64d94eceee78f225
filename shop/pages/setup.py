"""Create the store's Wagtail pages once: the home page and its content pages.

Runs after ``migrate`` so that every database (demo, tests, production) has a
working home page at ``/``. It never overwrites pages that editors changed:
a page that already exists is left alone.
"""

from __future__ import annotations

from django.db import transaction

HERO = {
    "heading": "Made for the way you live",
    "text": "Kitchenware, garden tools, outdoor kit and everyday essentials, delivered in two days.",
    "button_text": "Browse the catalogue",
    "button_url": "/catalogue/",
    "style": "light",
    "variants": [],
}


def _slot(heading: str, fallback: str, count: int = 4) -> dict:
    return {"heading": heading, "fallback_heading": fallback, "count": count}


HOME_BODY = [
    {"type": "hero", "value": HERO},
    {"type": "for_you", "value": _slot("Recommended for you", "Popular right now")},
    {"type": "recently_viewed", "value": _slot("Recently viewed", "Popular right now")},
    {"type": "new_for_you", "value": _slot("New arrivals for you", "New arrivals")},
    {"type": "trending", "value": {"category": None, "heading": "Trending now", "count": 4}},
    {"type": "buy_again", "value": _slot("Buy again", "Customers' favourites")},
    {"type": "categories", "value": {"heading": "Shop by category", "limit": 12}},
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


LOYAL = {"name": "Loyal customers", "description": "Three orders or more (the demo's targeted hero).",
         "rules": {"attribute": "order_count", "op": "gte", "value": 3}}
LAPSED = {"name": "Lapsed customers", "description": "Customers without an order in 60 days (the demo's "
          "promotion variant).", "rules": {"all": [{"attribute": "order_count", "op": "gte", "value": 1},
                                                    {"attribute": "last_order_at", "op": "older_than_days",
                                                     "value": 60}]}}


@transaction.atomic
def ensure_demo_storefront() -> None:
    """The demo store's storefront, after seeding: two segments, a promotion with a variant
    for one of them, the home page arranged with every kind of block (a hero with a variant
    for loyal customers, the promotion, a category's trending products) and a landing page.
    Pages an editor has since changed are left alone (the home page is arranged only while
    it has no promotion block)."""
    from oscar.core.loading import get_model

    from ecrm.models import Segment
    from ecrm.segments import segment_refresh
    from shop.pages.models import HomePage, LandingPage, Promotion, PromotionVariant

    ensure_site_pages()
    segments = {}
    for spec in (LOYAL, LAPSED):
        segment, created = Segment.objects.get_or_create(name=spec["name"], defaults={
            "description": spec["description"], "rules": spec["rules"], "kind": Segment.DYNAMIC})
        if created:
            segment_refresh(segment)
        segments[spec["name"]] = segment
    promotion, created = Promotion.objects.get_or_create(slug="free-delivery", defaults={
        "name": "Free delivery", "heading": "Free delivery on orders over £50",
        "text": "Order before 2pm for same-day dispatch.", "link_text": "Delivery and returns",
        "link_url": "/delivery/", "style": "light"})
    if created:
        PromotionVariant.objects.create(
            promotion=promotion, segment=segments[LAPSED["name"]], heading="We have missed you",
            text="Free delivery on your next order, whatever its size.", link_text="See what's new",
            link_url="/catalogue/", style="accent")

    Category = get_model("catalogue", "Category")
    Product = get_model("catalogue", "Product")
    kitchen = Category.objects.filter(depth=1, is_public=True).order_by("path").first()
    picks = list(Product.objects.browsable().filter(is_public=True).order_by("-date_created", "-id")[:4])
    home = HomePage.objects.get()
    if not any(block.block_type == "promotion" for block in home.body):
        hero = dict(HERO, variants=[{
            "segment": str(segments[LOYAL["name"]].pk), "heading": "Thank you for coming back",
            "text": "Our most loyal customers see new arrivals first.", "image": None,
            "button_text": "See what's new", "button_url": "/catalogue/", "style": "dark"}])
        home.body = [
            ("hero", hero),
            ("promotion", {"promotion": promotion}),
            ("for_you", _slot("Recommended for you", "Popular right now")),
            ("recently_viewed", _slot("Recently viewed", "Popular right now")),
            ("new_for_you", _slot("New arrivals for you", "New arrivals")),
            ("trending", {"category": kitchen, "heading": "", "count": 4}),
            ("buy_again", _slot("Buy again", "Customers' favourites")),
            ("categories", {"heading": "Shop by category", "limit": 12}),
        ]
        home.save_revision().publish()
    if picks and not LandingPage.objects.filter(slug="winter-sale").exists():
        landing = home.add_child(instance=LandingPage(
            title="Winter warmers", slug="winter-sale", show_navigation=False,
            intro="Everything for cosy evenings: picked by our team, and by what you like.",
            body=[("banner", {"heading": "Winter warmers: this week only", "text": "Free delivery on every order.",
                              "image": None, "button_text": "", "button_url": "", "style": "accent",
                              "variants": []}),
                  ("product_grid", {"heading": "Our picks", "products": picks}),
                  ("for_you", _slot("Picked for you", "Popular right now")),
                  ("promotion", {"promotion": promotion})]))
        landing.save_revision().publish()
