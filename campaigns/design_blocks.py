"""The blocks marketers compose e-mail designs from (Wagtail StreamField).

Each block renders one or more table rows of the e-mail (``<tr>…</tr>``) through its
template, and has an ``email_text(value, context, html)`` for the plain-text part (the
generated text of its HTML unless it knows better, as recommendations do). ``context`` is the
message's: ``customer``, ``order``, ``voucher``, ``products``, ``person_key``, ``design``,
``preview``, ``link_parameters`` (see ``campaigns.design_rendering``). A block with nothing to
show (no voucher, no order, no recommendations) renders nothing.

Text, button links, the subject and the preheader may use Django template variables
(``{{ customer.first_name|default:"there" }}``); they are compiled when the design is saved
(``EmailDesign.clean``), so a syntax error is a message in the editor, not a failed send.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.template import Context, Template, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils.html import strip_tags
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock
from wagtail.rich_text import expand_db_html

from campaigns.design_choosers import CategoryChooserBlock, ProductChooserBlock
from campaigns.plaintext import html_to_text
from campaigns.tokens import absolute

TEXT_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul", "hr"]
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class BlockError(Exception):
    """A block cannot render for a reason the marketer can fix; the text says which."""


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    return Template(source)  # a broadcast renders the same few sources for every recipient


def template_compile(source: str, what: str) -> Template:
    """The source as a Django template, or ValidationError saying where it is broken."""
    try:
        return _compiled(source)
    except TemplateSyntaxError as exc:
        raise ValidationError(f"{what}: template error: {exc}") from None


def render_string(source: str, context: dict, what: str, *, html: bool = True) -> str:
    """``html=False`` for plain text (a subject, a URL): values are not HTML-escaped there
    (the layout escapes them where they land in HTML)."""
    return template_compile(source, what).render(Context(context, autoescape=html))


def absolute_url(url: str) -> str:
    """A path made absolute with CAMPAIGNS_BASE_URL; full URLs and mailto:/tel: kept."""
    url = (url or "").strip()
    if not url or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("//"):
        return url
    return absolute(url if url.startswith("/") else "/" + url)


class EmailBlockMixin:
    """What the design renderer asks of a block. ``requires``: the message context key without
    which the block shows nothing (a voucher block in a message that has no voucher)."""

    requires: str | None = None

    def email_html(self, value, context: dict) -> str:
        if self.requires and not context.get(self.requires):
            return ""
        return self.render(value, context=context).strip()

    def email_text(self, value, context: dict, html: str) -> str:
        return html_to_text(html) if html else ""

    def template_sources(self, value) -> list[tuple[str, str]]:
        """(what, source) of every template string in the value, checked on save."""
        return []


class TextBlock(EmailBlockMixin, blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=TEXT_FEATURES, **kwargs)

    def email_html(self, value, context):
        html = render_string(expand_db_html(value.source), context, "text")
        return render_to_string("campaigns/designs/blocks/text.html", {"html": html})

    def template_sources(self, value):
        return [("text", value.source)]

    class Meta:
        icon = "pilcrow"
        label = "Text"


class ImageBlock(EmailBlockMixin, blocks.StructBlock):
    image = ImageChooserBlock()
    alt = blocks.CharBlock(required=False, max_length=200,
                           help_text="What the image shows, for readers with images off (default: its title).")
    width = blocks.IntegerBlock(min_value=40, max_value=600, default=600, help_text="Pixels; 600 is full width.")
    link = blocks.CharBlock(required=False, max_length=500, help_text="A path such as /catalogue/ or a full URL.")

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        image, width = value["image"], value["width"]
        if image is None:
            raise BlockError("the image was deleted from the image library: choose another")
        width = min(width, image.width)
        rendition = image.get_rendition(f"width-{width * 2}")  # twice the pixels for sharp screens
        context.update(src=absolute_url(rendition.url), width=width, alt=value["alt"] or image.title,
                       href=absolute_url(value["link"]))
        return context

    class Meta:
        template = "campaigns/designs/blocks/image.html"
        icon = "image"
        label = "Image"


class ButtonBlock(EmailBlockMixin, blocks.StructBlock):
    text = blocks.CharBlock(max_length=60)
    link = blocks.CharBlock(max_length=500, help_text='A path, a full URL, or a variable such as {{ status_url }}.')
    colour = blocks.RegexBlock(regex=HEX_COLOUR, default="#222222", error_messages={
        "invalid": "A colour as #rrggbb."})
    align = blocks.ChoiceBlock(choices=[("center", "Centre"), ("left", "Left")], default="center")

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["href"] = absolute_url(render_string(value["link"], context, "button link", html=False).strip())
        return context

    def template_sources(self, value):
        return [("button link", value["link"])]

    class Meta:
        template = "campaigns/designs/blocks/button.html"
        icon = "link"
        label = "Button"


class ProductGridBlock(EmailBlockMixin, blocks.StructBlock):
    SOURCES = [("chosen", "Products I choose"), ("newest", "Newest in a category"),
               ("popular", "Popular in a category"),
               ("message", "The message's products (the basket's items, the product whose price dropped...)")]
    heading = blocks.CharBlock(max_length=120, required=False)
    source = blocks.ChoiceBlock(choices=SOURCES, default="chosen")
    products = blocks.ListBlock(ProductChooserBlock(), required=False, help_text="For “Products I choose”.")
    category = CategoryChooserBlock(required=False, help_text="For newest and popular; none: the whole shop.")
    count = blocks.IntegerBlock(min_value=1, max_value=12, default=4)
    columns = blocks.IntegerBlock(min_value=1, max_value=4, default=2)

    def clean(self, value):
        value = super().clean(value)
        if value["source"] == "chosen" and not [p for p in value["products"] if p]:
            raise blocks.StructBlockValidationError({"products": ValidationError("Choose at least one product.")})
        return value

    def get_context(self, value, parent_context=None):
        from campaigns.design_products import grid_products
        from recommender.email import product_cards

        context = super().get_context(value, parent_context)
        products = grid_products(value, context)
        items = product_cards(products, link_parameters=context.get("link_parameters"))
        columns = value["columns"]
        context.update(heading=value["heading"], items=items, width=100 // columns,
                       rows=[items[i:i + columns] for i in range(0, len(items), columns)])
        return context

    def _grid(self, value, context):
        cache = context.setdefault("_blocks", {})  # the products are looked up once per message
        if id(value) not in cache:
            cache[id(value)] = self.get_context(value, context)
        return cache[id(value)]

    def email_html(self, value, context):
        block_context = self._grid(value, context)
        if not block_context["items"]:
            return ""
        from recommender.email import block_html

        grid = block_html(block_context["items"], heading=block_context["heading"], columns=value["columns"])
        return render_to_string("campaigns/designs/blocks/row.html", {"html": grid})

    def email_text(self, value, context, html):
        """As the recommendations' text: a titled list of "- title (price)" and the link."""
        if not html:
            return ""
        from recommender.email import block_text

        block_context = self._grid(value, context)
        return block_text(block_context["items"], heading=block_context["heading"])

    class Meta:
        icon = "grip"
        label = "Product grid"


class RecommendationsBlock(EmailBlockMixin, blocks.StructBlock):
    SLOTS = [("for_you", "For you (their mix of buying again and discovery)"),
             ("discover", "Something new (never bought)"), ("buy_again", "Buy again"),
             ("trending", "Trending"),
             ("bought_together", "Bought together with the message's product"),
             ("similar", "Similar to the message's product"), ("upsell", "Better than the message's product")]
    heading = blocks.CharBlock(max_length=120, default="Picked for you")
    slot = blocks.ChoiceBlock(choices=SLOTS, default="for_you",
                              help_text="Product-based choices use the message's first product (an abandoned "
                                        "basket's, a price drop's) and fall back to “For you” without one.")
    count = blocks.IntegerBlock(min_value=1, max_value=12, default=4)
    columns = blocks.IntegerBlock(min_value=1, max_value=4, default=2)

    def _block(self, value, context):
        from campaigns.design_products import recommendations

        cache = context.setdefault("_blocks", {})  # one recommender call per block and message
        if id(value) not in cache:
            cache[id(value)] = recommendations(value, context)
        return cache[id(value)]

    def email_html(self, value, context):
        block = self._block(value, context)
        return render_to_string("campaigns/designs/blocks/row.html", {"html": block.html}) if block.html else ""

    def email_text(self, value, context, html):
        return self._block(value, context).text if html else ""

    class Meta:
        icon = "pick"
        label = "Personal recommendations"


class VoucherBlock(EmailBlockMixin, blocks.StructBlock):
    requires = "voucher"
    heading = blocks.CharBlock(max_length=120, default="A gift for you")
    text = blocks.CharBlock(max_length=300, required=False, default="Use this code at checkout.")

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["coupon"] = voucher_summary(context.get("voucher"))
        return context

    class Meta:
        template = "campaigns/designs/blocks/voucher.html"
        icon = "tag"
        label = "Voucher (shown when the message has one)"


class OrderSummaryBlock(EmailBlockMixin, blocks.StructBlock):
    requires = "order"
    heading = blocks.CharBlock(max_length=120, default="Your order")
    show_status = blocks.BooleanBlock(required=False, default=True)

    def get_context(self, value, parent_context=None):
        from campaigns.tokens import order_status_url

        context = super().get_context(value, parent_context)
        order = context["order"]
        context.update(lines=list(order.lines.all()), status_link=order_status_url(order))
        return context

    class Meta:
        template = "campaigns/designs/blocks/order_summary.html"
        icon = "list-ul"
        label = "Order summary (shown when the message is about an order)"


class SpacerBlock(EmailBlockMixin, blocks.StructBlock):
    height = blocks.IntegerBlock(min_value=4, max_value=80, default=16, help_text="Pixels.")
    line = blocks.BooleanBlock(required=False, default=False, help_text="Draw a divider line.")

    class Meta:
        template = "campaigns/designs/blocks/spacer.html"
        icon = "horizontalrule"
        label = "Spacer / divider"


def voucher_summary(voucher) -> dict | None:
    """{"code", "value", "expires"} of an Oscar voucher (or of such a dict, for previews)."""
    if not voucher:
        return None
    if isinstance(voucher, dict):
        return voucher
    offer = voucher.offers.select_related("benefit").first()
    return {"code": voucher.code, "value": strip_tags(str(offer.benefit.description)) if offer else "",
            "expires": voucher.end_datetime}


DESIGN_BLOCKS = [
    ("text", TextBlock()),
    ("image", ImageBlock()),
    ("button", ButtonBlock()),
    ("product_grid", ProductGridBlock()),
    ("recommendations", RecommendationsBlock()),
    ("voucher", VoucherBlock()),
    ("order_summary", OrderSummaryBlock()),
    ("spacer", SpacerBlock()),
]
