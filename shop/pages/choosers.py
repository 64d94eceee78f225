"""Oscar's products and categories in Wagtail's page editor: chooser modals (Wagtail's
``ChooserViewSet``, registered in ``wagtail_hooks``) and the StreamField blocks they give.

Products and categories stay Oscar's (edited in Oscar's dashboard, not as Wagtail snippets);
the choosers only list and search them, by title or UPC (products) and name (categories).
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from oscar.core.loading import get_model
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.views.generic.chooser import ChooseResultsView, ChooseView
from wagtail.admin.viewsets.chooser import ChooserViewSet

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")


class SearchForm(BaseFilterForm):
    """A search box over ``search_fields`` with ``icontains`` (Oscar's models are not in Wagtail's
    search index)."""

    search_fields: tuple[str, ...] = ()
    q = forms.CharField(label="Search term", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "Search"}))

    def filter(self, objects):
        query = (self.cleaned_data.get("q") or "").strip()
        if query:
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": query})
            objects = objects.filter(condition)
            self.is_searching, self.search_query = True, query
        return objects


class ProductSearchForm(SearchForm):
    search_fields = ("title", "upc")


class CategorySearchForm(SearchForm):
    search_fields = ("name",)


class ProductChooseView(ChooseView):
    filter_form_class = ProductSearchForm


class ProductChooseResultsView(ChooseResultsView):
    filter_form_class = ProductSearchForm


class CategoryChooseView(ChooseView):
    filter_form_class = CategorySearchForm


class CategoryChooseResultsView(ChooseResultsView):
    filter_form_class = CategorySearchForm


class ProductChooserViewSet(ChooserViewSet):
    model = Product
    icon = "tag"
    choose_one_text = "Choose a product"
    choose_another_text = "Choose another product"
    choose_view_class = ProductChooseView
    choose_results_view_class = ProductChooseResultsView
    per_page = 20

    def get_object_list(self):
        return Product.objects.browsable().filter(is_public=True).order_by("title")


class CategoryChooserViewSet(ChooserViewSet):
    model = Category
    icon = "folder-open-inverse"
    choose_one_text = "Choose a category"
    choose_another_text = "Choose another category"
    choose_view_class = CategoryChooseView
    choose_results_view_class = CategoryChooseResultsView
    per_page = 30

    def get_object_list(self):
        return Category.objects.filter(is_public=True).order_by("path")


product_chooser = ProductChooserViewSet("product_chooser", url_prefix="choose/product")
category_chooser = CategoryChooserViewSet("category_chooser", url_prefix="choose/category")
ProductChooserBlock = product_chooser.get_block_class(name="ProductChooserBlock", module_path="shop.pages.choosers")
CategoryChooserBlock = category_chooser.get_block_class(name="CategoryChooserBlock",
                                                        module_path="shop.pages.choosers")
