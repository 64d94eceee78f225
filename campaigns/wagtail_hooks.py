"""Wagtail admin: e-mail designs as snippets (Snippets → E-mail designs, and a menu item of
their own), the product and category choosers their blocks use, and a link from each design
to the dashboard's "preview as a customer and send a test"."""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import cached_property
from wagtail import hooks
from wagtail.admin.widgets.button import Button
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import EditView, SnippetViewSet

from campaigns.design_choosers import category_chooser_viewset, product_chooser_viewset
from campaigns.designs_models import EmailDesign


def _preview_button(design, user, priority=5):
    if not (user.is_staff and user.has_perm("campaigns.view_emaildesign")):
        return None
    return Button("Preview as a customer / send a test", icon_name="view", priority=priority,
                  url=reverse("campaigns-dashboard:design-preview", args=[design.pk]),
                  attrs={"target": "_blank", "rel": "noopener"})


class EmailDesignEditView(EditView):
    @cached_property
    def header_more_buttons(self):
        button = _preview_button(self.object, self.request.user)
        return super().header_more_buttons + ([button] if button else [])


class EmailDesignViewSet(SnippetViewSet):
    model = EmailDesign
    icon = "mail"
    menu_label = "E-mail designs"
    menu_name = "email-designs"
    menu_order = 250
    add_to_admin_menu = True
    list_display = ["name", "slug", "subject", "live", "updated_at"]
    list_filter = ["live"]
    search_fields = ["name", "subject"]
    edit_view_class = EmailDesignEditView
    copy_view_enabled = True


register_snippet(EmailDesignViewSet)


@hooks.register("register_admin_viewset")
def register_choosers():
    return [product_chooser_viewset, category_chooser_viewset]


@hooks.register("register_snippet_listing_buttons")
def email_design_listing_buttons(snippet, user, next_url=None):
    if isinstance(snippet, EmailDesign):
        button = _preview_button(snippet, user, priority=50)
        if button:
            yield button
