"""Dashboard → Campaigns → Sent mail: the messages the demo's mail backend wrote to its folder
(``campaigns.sent_mail.FolderEmailBackend``), listed and opened one by one (the HTML part in
a sandboxed iframe, the text part, every header). Not there when mail really goes out."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.views.generic import TemplateView

from campaigns import sent_mail
from tracking.dashboard.views import StaffPermission


class _SentMailView(StaffPermission, TemplateView):
    permission_required = "campaigns.view_message"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not sent_mail.enabled():
            raise Http404("Sent mail is shown only when EMAIL_BACKEND is campaigns.sent_mail.FolderEmailBackend.")
        return super().dispatch(request, *args, **kwargs)


class SentMailListView(_SentMailView):
    template_name = "campaigns/dashboard/sent_mail.html"

    def get_context_data(self, **kwargs):
        page = Paginator(sent_mail.sent_mail_names(), 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(page_obj=page, paginator=page.paginator, is_paginated=page.has_other_pages(),
                                        mails=sent_mail.sent_mail_summaries(list(page.object_list)),
                                        folder=sent_mail.folder(), **kwargs)


class SentMailDetailView(_SentMailView):
    template_name = "campaigns/dashboard/sent_mail_detail.html"

    def get_context_data(self, name, **kwargs):
        mail = sent_mail.sent_mail_read(name)
        if mail is None:
            raise Http404("No such message in the sent-mail folder.")
        return super().get_context_data(mail=mail, **kwargs)
