from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from shop.pages.blocks import CONTENT_BLOCKS, HOME_BLOCKS


class HomePage(Page):
    """The store's front page at ``/``, arranged by marketers from blocks."""

    body = StreamField(HOME_BLOCKS, blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["pages.ContentPage"]
    max_count = 1
    template = "pages/home_page.html"


class ContentPage(Page):
    """An editorial page: about us, delivery and returns, FAQ."""

    intro = models.TextField(blank=True)
    body = StreamField(CONTENT_BLOCKS, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["pages.HomePage", "pages.ContentPage"]
    template = "pages/content_page.html"
