"""StreamField blocks that marketers arrange on the home page, landing pages and content pages.

Personal blocks say so (``is_personal(value)``): on a page every anonymous visitor shares,
the page renders them with their fallback and marks them for the visitor's own version
(``shop.pages.templatetags.storefront.page_block``). Every personal block has a fallback that
is never empty while the store has products: popular or trending products, the newest ones,
the default banner.
"""

from django.apps import apps
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock

from recommender.slots import PERSON_SLOTS
from recommender.wagtail_blocks import RecommendationsBlock
from shop.pages.choosers import CategoryChooserBlock, ProductChooserBlock
from shop.pages.targeting import chosen_variant, visitor_segments


def segment_choices() -> list[tuple[str, str]]:
    """ecrm's segments (read when the form is built, so new segments need no migration)."""
    Segment = apps.get_model("ecrm", "Segment")
    return [(str(pk), name) for pk, name in Segment.objects.order_by("name").values_list("pk", "name")]


STYLES = [("light", "Light"), ("dark", "Dark"), ("accent", "Accent")]


def _banner_fields():
    return [
        ("heading", blocks.CharBlock(max_length=120)),
        ("text", blocks.TextBlock(required=False)),
        ("image", ImageChooserBlock(required=False)),
        ("button_text", blocks.CharBlock(max_length=40, required=False)),
        ("button_url", blocks.CharBlock(max_length=200, required=False,
                                        help_text="A path such as /catalogue/ or a full URL.")),
        ("style", blocks.ChoiceBlock(choices=STYLES, default="light", required=False)),
    ]


class VariantBlock(blocks.StructBlock):
    segment = blocks.ChoiceBlock(choices=segment_choices, help_text="Visitors in this segment see this variant.")

    def __init__(self, **kwargs):
        super().__init__(_banner_fields(), **kwargs)


class TargetedBannerBlock(blocks.StructBlock):
    """A banner with a default for everybody and a variant per segment (the first variant
    whose segment the visitor is in wins)."""

    variants = blocks.ListBlock(VariantBlock(), default=[], required=False,
                                help_text="Optional: what visitors in a segment see instead. First match wins.")

    def __init__(self, **kwargs):
        super().__init__(_banner_fields(), **kwargs)

    def is_personal(self, value) -> bool:
        return bool(value.get("variants"))

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        content = value
        if value.get("variants") and not (parent_context or {}).get("ecrm_block_deferred"):
            content = chosen_variant(value["variants"], visitor_segments((parent_context or {}).get("request"))) \
                or value
        context["content"] = content
        context["variant"] = content is not value
        return context


class HeroBlock(TargetedBannerBlock):
    class Meta:
        template = "pages/blocks/hero.html"
        icon = "image"
        label = "Hero (targeted)"


class BannerBlock(TargetedBannerBlock):
    class Meta:
        template = "pages/blocks/banner.html"
        icon = "doc-full"
        label = "Banner (targeted)"


class SlotBlock(blocks.StructBlock):
    """A recommendation slot as product cards, its heading for the visitor's own list and a
    heading for the fallback (what a visitor the store does not know yet sees)."""

    slot = None
    heading = blocks.CharBlock(max_length=120)
    fallback_heading = blocks.CharBlock(max_length=120, required=False,
                                        help_text="Shown instead while the visitor has nothing of their own "
                                                  "(popular products).")
    count = blocks.IntegerBlock(min_value=1, max_value=24, default=4)

    def is_personal(self, value) -> bool:
        return self.slot in PERSON_SLOTS

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["slot"] = self.slot
        return context

    class Meta:
        template = "pages/blocks/slot.html"
        icon = "pick"


def _slot_block(name, slot, heading, fallback, icon="pick"):
    meta = type("Meta", (), {"label": name, "icon": icon})
    return type(f"{slot.title().replace('_', '')}Block", (SlotBlock,), {
        "slot": slot, "Meta": meta, "__module__": __name__,
        "heading": blocks.CharBlock(max_length=120, default=heading),
        "fallback_heading": blocks.CharBlock(max_length=120, required=False, default=fallback,
                                             help_text="Shown instead while the visitor has nothing of their "
                                                       "own (popular products)."),
    })


ForYouBlock = _slot_block("Recommended for you", "for_you", "Recommended for you", "Popular right now")
BuyAgainBlock = _slot_block("Buy again", "buy_again", "Buy again", "Customers' favourites", icon="repeat")
RecentlyViewedBlock = _slot_block("Recently viewed", "recently_viewed", "Recently viewed", "Popular right now",
                                  icon="history")


class TrendingBlock(blocks.StructBlock):
    """What is trending, in a category or the whole store: the same for everybody."""

    category = CategoryChooserBlock(required=False, help_text="Empty: the whole store.")
    heading = blocks.CharBlock(max_length=120, required=False, help_text='Empty: "Trending in <category>".')
    count = blocks.IntegerBlock(min_value=1, max_value=24, default=4)

    class Meta:
        template = "pages/blocks/trending.html"
        icon = "sliders"
        label = "Trending in a category"


class NewArrivalsForYouBlock(blocks.StructBlock):
    """The newest products, those in the visitor's favourite categories and brands first."""

    heading = blocks.CharBlock(max_length=120, default="New arrivals for you")
    fallback_heading = blocks.CharBlock(max_length=120, default="New arrivals", required=False)
    count = blocks.IntegerBlock(min_value=1, max_value=24, default=4)

    def is_personal(self, value) -> bool:
        return True

    def get_context(self, value, parent_context=None):
        from shop.pages.new_arrivals import new_arrivals

        context = super().get_context(value, parent_context)
        parent = parent_context or {}
        request = parent.get("request")
        shared = bool(getattr(request, "ecrm_shared", False)) or bool(parent.get("ecrm_block_deferred"))
        context["items"] = new_arrivals(request, k=value["count"], personal=not shared)
        return context

    class Meta:
        template = "pages/blocks/new_arrivals.html"
        icon = "grip"
        label = "New arrivals for you"


class ProductGridBlock(blocks.StructBlock):
    """Products a marketer picks, in their order (sold-out and hidden ones are left out)."""

    heading = blocks.CharBlock(max_length=120, required=False)
    products = blocks.ListBlock(ProductChooserBlock(), min_num=1, max_num=24)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        from recommender.catalogue import catalogue

        chosen = [product for product in value["products"] if product is not None]
        entries = catalogue.details([str(product.pk) for product in chosen])
        context["products"] = [product for product in chosen
                               if entries[str(product.pk)].product is not None and entries[str(product.pk)].available]
        return context

    class Meta:
        template = "pages/blocks/product_cards.html"
        icon = "list-ul"
        label = "Product grid (chosen products)"


class PromotionBlock(blocks.StructBlock):
    """A promotional message (a snippet with a variant per segment)."""

    promotion = SnippetChooserBlock("pages.Promotion")

    def is_personal(self, value) -> bool:
        promotion = value.get("promotion")
        return promotion is not None and promotion.has_variants()

    class Meta:
        template = "pages/blocks/promotion.html"
        icon = "pick"
        label = "Promotion (snippet)"


class CategoryLinksBlock(blocks.StructBlock):
    """The store's top-level categories, read live from Oscar's catalogue."""

    heading = blocks.CharBlock(max_length=120, default="Shop by category")
    limit = blocks.IntegerBlock(min_value=1, max_value=48, default=12)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        Category = apps.get_model("catalogue", "Category")
        context["categories"] = Category.get_root_nodes().filter(is_public=True)[: value["limit"]]
        return context

    class Meta:
        template = "pages/blocks/category_links.html"
        icon = "list-ul"


class NewArrivalsBlock(blocks.StructBlock):
    """The newest public products, optionally from one category (by slug): the same for everybody."""

    heading = blocks.CharBlock(max_length=120, default="New arrivals")
    category_slug = blocks.CharBlock(max_length=255, required=False)
    limit = blocks.IntegerBlock(min_value=1, max_value=24, default=8)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        Product = apps.get_model("catalogue", "Product")
        products = Product.objects.browsable().base_queryset().filter(is_public=True)
        if value["category_slug"]:
            products = products.filter(categories__slug=value["category_slug"])
        context["products"] = products.order_by("-date_created", "-id")[: value["limit"]]
        return context

    class Meta:
        template = "pages/blocks/product_cards.html"
        icon = "grip"


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=200)
    answer = blocks.RichTextBlock()

    class Meta:
        template = "pages/blocks/question.html"
        icon = "help"


HOME_BLOCKS = [
    ("hero", HeroBlock()),
    ("banner", BannerBlock()),
    ("promotion", PromotionBlock()),
    ("for_you", ForYouBlock()),
    ("buy_again", BuyAgainBlock()),
    ("recently_viewed", RecentlyViewedBlock()),
    ("trending", TrendingBlock()),
    ("new_for_you", NewArrivalsForYouBlock()),
    ("product_grid", ProductGridBlock()),
    ("categories", CategoryLinksBlock()),
    ("new_arrivals", NewArrivalsBlock()),
    ("recommendations", RecommendationsBlock()),
    ("text", blocks.RichTextBlock()),
]

CONTENT_BLOCKS = [
    ("heading", blocks.CharBlock(form_classname="title", template="pages/blocks/heading.html")),
    ("text", blocks.RichTextBlock()),
    ("question", QuestionBlock()),
    ("promotion", PromotionBlock()),
    ("recommendations", RecommendationsBlock()),
]
