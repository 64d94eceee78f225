from django.db import models
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page

from shop.pages.blocks import CONTENT_BLOCKS, HOME_BLOCKS
from shop.pages.caching import PersonalisedPageMixin


class HomePage(PersonalisedPageMixin, Page):
    """The store's front page at ``/``, arranged by marketers from blocks."""

    body = StreamField(HOME_BLOCKS, blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["pages.ContentPage", "pages.LandingPage"]
    max_count = 1
    template = "pages/home_page.html"


class LandingPage(PersonalisedPageMixin, Page):
    """A campaign's landing page: the home page's blocks, under its own address (the
    link a newsletter or an ad points to), optionally without the category navigation."""

    intro = models.TextField(blank=True)
    body = StreamField(HOME_BLOCKS, blank=True)
    show_navigation = models.BooleanField(default=True, help_text="Show the store's category navigation.")

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    settings_panels = Page.settings_panels + [FieldPanel("show_navigation")]
    parent_page_types = ["pages.HomePage", "pages.ContentPage"]
    subpage_types = []
    template = "pages/landing_page.html"


class ContentPage(PersonalisedPageMixin, Page):
    """An editorial page: about us, delivery and returns, FAQ."""

    intro = models.TextField(blank=True)
    body = StreamField(CONTENT_BLOCKS, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["pages.HomePage", "pages.ContentPage"]
    template = "pages/content_page.html"


STYLES = [("light", "Light"), ("dark", "Dark"), ("accent", "Accent")]


class PromotionMessage(models.Model):
    """What a promotion says: its default, or a variant's."""

    heading = models.CharField(max_length=120, blank=True)
    text = models.CharField(max_length=300, blank=True)
    link_text = models.CharField(max_length=40, blank=True)
    link_url = models.CharField(max_length=200, blank=True, help_text="A path such as /catalogue/ or a full URL.")
    style = models.CharField(max_length=10, choices=STYLES, default="light")

    panels = [FieldPanel("heading"), FieldPanel("text"), FieldPanel("link_text"), FieldPanel("link_url"),
              FieldPanel("style")]

    class Meta:
        abstract = True


class Promotion(PromotionMessage, ClusterableModel):
    """A promotional message (a Wagtail snippet) that pages place with a block and Oscar's
    templates with ``{% promotion "slug" %}``: a default for everybody, and a variant per
    segment (the first whose segment the visitor is in wins)."""

    name = models.CharField(max_length=100, help_text="For the editors' list; visitors never see it.")
    slug = models.SlugField(max_length=60, unique=True, help_text="What templates name it by.")
    live = models.BooleanField(default=True, help_text="Off: shown nowhere.")

    panels = [
        MultiFieldPanel([FieldPanel("name"), FieldPanel("slug"), FieldPanel("live")], heading="Promotion"),
        MultiFieldPanel(PromotionMessage.panels, heading="For everybody"),
        InlinePanel("variants", heading="Variants per segment", label="Variant"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def has_variants(self) -> bool:
        return self.variants.exists()

    def message_for(self, segments: frozenset[int]):
        """The first variant whose segment the visitor is in, or the promotion itself."""
        for variant in self.variants.all():
            if variant.segment_id in segments:
                return variant
        return self


class PromotionVariant(PromotionMessage, Orderable):
    promotion = ParentalKey(Promotion, on_delete=models.CASCADE, related_name="variants")
    segment = models.ForeignKey("ecrm.Segment", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("segment"), *PromotionMessage.panels]
