"""E-mail designs: what a flow step or a broadcast sends, composed by marketers in Wagtail.

A design is a Wagtail **snippet**, not a page: an e-mail has no URL on the site and no place
in the page tree, and snippets give everything else a page would (drafts and publishing,
revisions and their comparison, the live preview panel, permissions per action) without a
second page root to hide from the site. A message names it by ``template="design:<slug>"``;
what is sent is the **published** version (a draft in progress never goes out), rendered
per recipient at send time by ``campaigns.design_rendering``.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.http import HttpResponse
from django.utils.html import escape
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import DraftStateMixin, PreviewableMixin, RevisionMixin
from wagtail.search import index

from campaigns.design_blocks import DESIGN_BLOCKS, template_compile

DESIGN_PREFIX = "design:"


class EmailDesign(PreviewableMixin, DraftStateMixin, RevisionMixin, index.Indexed, models.Model):
    name = models.CharField(max_length=120, help_text="For staff: “Gift guide”, “Your basket is waiting”.")
    slug = models.CharField(
        max_length=40, unique=True,
        validators=[RegexValidator(r"^[a-z0-9_-]+$", "Lower-case letters, digits, '-' and '_' only.")],
        help_text="Flows and broadcasts send it as design:<slug>; also names its recommendations in the slot "
                  "report (email:<slug>). Changing it breaks the flows that use it.")
    subject = models.CharField(max_length=255, help_text='Template variables work: '
                               '{{ customer.first_name|default:"there" }}, your gift guide is here')
    preheader = models.CharField(max_length=255, blank=True,
                                 help_text="The line inbox lists show after the subject (template variables work).")
    body = StreamField(DESIGN_BLOCKS, help_text="Text and links may use template variables too.")
    updated_at = models.DateTimeField(auto_now=True)
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="email_design")

    panels = [
        MultiFieldPanel([FieldPanel("name"), FieldPanel("slug")], heading="Design"),
        MultiFieldPanel([FieldPanel("subject"), FieldPanel("preheader")], heading="Inbox"),
        FieldPanel("body"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name"), index.SearchField("subject")]
    preview_modes = [("", "E-mail"), ("text", "Plain text")]

    class Meta:
        ordering = ["name"]
        verbose_name = "e-mail design"
        permissions = [("send_test_emaildesign", "Can send a test of an e-mail design")]

    def __str__(self) -> str:
        return self.name

    @property
    def revisions(self):
        return self._revisions

    @property
    def template_code(self) -> str:
        return DESIGN_PREFIX + self.slug

    def template_problems(self) -> dict[str, list[str]]:
        """Template syntax errors per field ("subject", "preheader", "body"), for the editor."""
        problems: dict[str, list[str]] = {}
        for field in ("subject", "preheader"):
            try:
                template_compile(getattr(self, field), field.capitalize())
            except ValidationError as exc:
                problems.setdefault(field, []).extend(exc.messages)
        for position, child in enumerate(self.body or [], start=1):
            sources = getattr(child.block, "template_sources", lambda value: [])(child.value)
            for what, source in sources:
                try:
                    template_compile(source, f"Block {position} ({child.block.label}), {what}")
                except ValidationError as exc:
                    problems.setdefault("body", []).extend(exc.messages)
        return problems

    def clean(self):
        super().clean()
        problems = self.template_problems()
        if problems:
            raise ValidationError(problems)

    def serve_preview(self, request, mode_name):
        """Wagtail's live preview panel: this (unsaved) design for a sample customer, or what
        is wrong with it."""
        from campaigns.design_rendering import RenderError, design_render, preview_context, sample_customer

        try:
            rendered = design_render(self, preview_context(customer=sample_customer(request.user)), preview=True)
        except RenderError as exc:
            return HttpResponse(f'<!DOCTYPE html><meta charset="utf-8"><div style="font:15px sans-serif;'
                                f'padding:16px;color:#a00"><strong>This design cannot be rendered.</strong>'
                                f'<p>{escape(str(exc))}</p></div>')
        if mode_name == "text":
            return HttpResponse(f"Subject: {rendered['subject']}\n\n{rendered['text']}",
                                content_type="text/plain; charset=utf-8")
        return HttpResponse(rendered["html"])

