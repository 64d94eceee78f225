"""Wagtail admin: the product and category choosers, and promotions as snippets."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from shop.pages.choosers import category_chooser, product_chooser
from shop.pages.models import Promotion


@hooks.register("register_admin_viewset")
def register_product_chooser():
    return product_chooser


@hooks.register("register_admin_viewset")
def register_category_chooser():
    return category_chooser


class PromotionViewSet(SnippetViewSet):
    model = Promotion
    icon = "pick"
    menu_label = "Promotions"
    list_display = ["name", "slug", "live"]


register_snippet(PromotionViewSet)
