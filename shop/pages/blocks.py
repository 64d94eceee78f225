"""StreamField blocks that marketers arrange on the home page and content pages."""

from django.apps import apps
from wagtail import blocks

from recommender.wagtail_blocks import RecommendationsBlock


class HeroBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    text = blocks.TextBlock(required=False)
    button_text = blocks.CharBlock(max_length=40, required=False)
    button_url = blocks.CharBlock(
        max_length=200, required=False, help_text="A path such as /catalogue/ or a full URL."
    )

    class Meta:
        template = "pages/blocks/hero.html"
        icon = "image"


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
    """The newest public products, optionally from one category (by slug)."""

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
        template = "pages/blocks/product_grid.html"
        icon = "grip"


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=200)
    answer = blocks.RichTextBlock()

    class Meta:
        template = "pages/blocks/question.html"
        icon = "help"


HOME_BLOCKS = [
    ("hero", HeroBlock()),
    ("categories", CategoryLinksBlock()),
    ("new_arrivals", NewArrivalsBlock()),
    ("recommendations", RecommendationsBlock()),
    ("text", blocks.RichTextBlock()),
]

CONTENT_BLOCKS = [
    ("heading", blocks.CharBlock(form_classname="title", template="pages/blocks/heading.html")),
    ("text", blocks.RichTextBlock()),
    ("question", QuestionBlock()),
    ("recommendations", RecommendationsBlock()),
]
