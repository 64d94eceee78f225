"""Wagtail choosers for Oscar's products and categories, so e-mail design blocks can pick
them with Wagtail's own chooser modal (search by title or UPC; categories by name).

Oscar's models are not Wagtail-indexed, so the search is a plain ``icontains`` filter.
Registered in ``campaigns.wagtail_hooks``; the StreamField blocks come from
``get_block_class`` (with a module path, so migrations can import them).
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.chooser import ChooseResultsView, ChooseView
from wagtail.admin.viewsets.chooser import ChooserViewSet


class _SearchForm(BaseFilterForm):
    q = forms.CharField(label="Search", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "Search"}))
    search_fields: tuple[str, ...] = ()  # model fields matched with icontains

    def filter(self, objects):
        query = (self.cleaned_data.get("q") or "").strip()
        if query:
            match = Q()
            for field in self.search_fields:
                match |= Q(**{f"{field}__icontains": query})
            objects = objects.filter(match)
            self.is_searching, self.search_query = True, query
        return objects


class ProductSearchForm(_SearchForm):
    search_fields = ("title", "upc")


class CategorySearchForm(_SearchForm):
    search_fields = ("name",)


class _ProductColumns:
    @property
    def columns(self):
        return [self.title_column, Column("upc", label="UPC"), Column("is_public", label="Public")]


class ProductChooseView(_ProductColumns, ChooseView):
    filter_form_class = ProductSearchForm
    ordering = ["title", "pk"]


class ProductChooseResultsView(_ProductColumns, ChooseResultsView):
    filter_form_class = ProductSearchForm
    ordering = ["title", "pk"]


class ProductChooserViewSet(ChooserViewSet):
    model = "catalogue.Product"
    icon = "tag"
    choose_one_text = "Choose a product"
    choose_another_text = "Choose another product"
    choose_view_class = ProductChooseView
    choose_results_view_class = ProductChooseResultsView
    register_widget = False  # only for blocks: Oscar's own forms keep their widgets

    def get_object_list(self):
        from oscar.core.loading import get_model

        return get_model("catalogue", "Product").objects.exclude(structure="child")


class CategoryChooseView(ChooseView):
    filter_form_class = CategorySearchForm
    ordering = ["path"]


class CategoryChooseResultsView(ChooseResultsView):
    filter_form_class = CategorySearchForm
    ordering = ["path"]


class CategoryChooserViewSet(ChooserViewSet):
    model = "catalogue.Category"
    icon = "folder-open-inverse"
    choose_one_text = "Choose a category"
    choose_another_text = "Choose another category"
    choose_view_class = CategoryChooseView
    choose_results_view_class = CategoryChooseResultsView
    register_widget = False


product_chooser_viewset = ProductChooserViewSet("campaigns_product_chooser")
category_chooser_viewset = CategoryChooserViewSet("campaigns_category_chooser")
ProductChooserBlock = product_chooser_viewset.get_block_class(
    name="ProductChooserBlock", module_path="campaigns.design_choosers")
CategoryChooserBlock = category_chooser_viewset.get_block_class(
    name="CategoryChooserBlock", module_path="campaigns.design_choosers")
