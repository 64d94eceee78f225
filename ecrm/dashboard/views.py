"""The support desk and the customer card in Oscar's dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.utils.module_loading import import_string
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import DetailView, FormView, TemplateView

from ecrm.consents import consent_record, consents_in_force
from ecrm.dashboard.forms import ConsentForm, NoteForm, TagsForm
from ecrm.defaults import setting
from ecrm.desk import access_record, note_add, tags_set
from ecrm.models import Profile, ProfileAccess
from ecrm.card import customer_addresses, customer_baskets, customer_messages, sessions_with_searches
from ecrm.customer_analytics import customer_analytics
from ecrm.selectors import customer_orders, customer_search
from ecrm.timeline import customer_timeline
from tracking.dashboard.views import StaffPermission

TABS = ("orders", "timeline", "sessions", "analytics", "baskets", "messages", "notes", "consents")


class CustomerSearchView(StaffPermission, TemplateView):
    """One box: e-mail (whole or part), phone, name, order number or anonymous id."""

    permission_required = "ecrm.view_profile"
    template_name = "ecrm/dashboard/customer_search.html"

    def get(self, request, *args, **kwargs):
        query = request.GET.get("q", "").strip()
        customers = customer_search(query) if query else []
        if len(customers) == 1:  # one match: straight to their card
            return redirect("ecrm-dashboard:customer", pk=customers[0].pk)
        context = self.get_context_data(query=query, customers=customers,
                                        too_short=bool(query) and len(query) < 2, **kwargs)
        return self.render_to_response(context)


def _profile(pk) -> Profile:
    return get_object_or_404(Profile.objects.select_related("user"), pk=pk)


class CustomerCardView(StaffPermission, DetailView):
    permission_required = "ecrm.view_profile"
    template_name = "ecrm/dashboard/customer_card.html"
    context_object_name = "profile"

    def get_object(self, queryset=None):
        profile = _profile(self.kwargs["pk"])
        access_record(profile=profile, staff=self.request.user, action=ProfileAccess.VIEW,
                      detail=self.request.GET.get("tab", "orders")[:20])
        return profile

    def get_context_data(self, **kwargs):
        extra = {tab.name: tab for tab in map(import_string, setting("ECRM_CARD_TABS"))}
        tab = self.request.GET.get("tab", "orders")
        tab = tab if tab in TABS or tab in extra else "orders"
        profile = self.object
        if tab in extra:
            kwargs.update(extra_template=extra[tab].template_name, **extra[tab](profile, self.request))
        loaders = {"orders": customer_orders, "timeline": customer_timeline, "sessions": sessions_with_searches,
                   "analytics": customer_analytics,
                   "baskets": customer_baskets, "messages": customer_messages,
                   "notes": lambda p: p.notes.select_related("author"),
                   "consents": lambda p: p.consents.all()}
        rows = loaders[tab](profile) if tab in loaders else []
        tabs = [(name, name.capitalize()) for name in TABS] + [(t.name, t.label) for t in extra.values()]
        context = super().get_context_data(tab=tab, tabs=tabs, rows=rows, **kwargs)
        context["addresses"] = customer_addresses(profile)
        context["segments"] = profile.memberships.filter(left_at=None).select_related("segment")
        context["in_force"] = sorted(consents_in_force(profile).values(), key=lambda c: (c.channel, c.topic))
        context.update(note_form=kwargs.get("note_form") or NoteForm(),
                       tags_form=kwargs.get("tags_form") or TagsForm(
                           initial={"tags": ", ".join(sorted(profile.tags.names()))}),
                       consent_form=kwargs.get("consent_form") or ConsentForm())
        return context


class _CardAction(StaffPermission, FormView):
    """A form posted from the card; on error the card is shown again with the message."""

    http_method_names = ["post"]
    tab = "orders"

    def dispatch(self, request, *args, **kwargs):
        self.profile = _profile(kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form):
        for errors in form.errors.values():
            for error in errors:
                messages.error(self.request, error)
        return redirect(self.card_url())

    def card_url(self) -> str:
        return reverse("ecrm-dashboard:customer", kwargs={"pk": self.profile.pk}) + f"?tab={self.tab}"

    def get_success_url(self):
        return self.card_url()


class NoteCreateView(_CardAction):
    permission_required = "ecrm.add_customernote"
    form_class = NoteForm
    tab = "notes"

    def form_valid(self, form):
        note_add(profile=self.profile, author=self.request.user, text=form.cleaned_data["text"])
        messages.success(self.request, "Note added.")
        return super().form_valid(form)


class TagsUpdateView(_CardAction):
    permission_required = "ecrm.tag_profile"
    form_class = TagsForm

    def form_valid(self, form):
        tags_set(profile=self.profile, staff=self.request.user, tags=form.cleaned_data["tags"])
        messages.success(self.request, "Tags saved.")
        return super().form_valid(form)


class ConsentCreateView(_CardAction):
    permission_required = "ecrm.add_consent"
    form_class = ConsentForm
    tab = "consents"

    def form_valid(self, form):
        data = form.cleaned_data
        consent_record(profile=self.profile, channel=data["channel"], topic=data["topic"],
                       granted=data["granted"], source="staff",
                       evidence={"staff": self.request.user.get_username(), "reason": data["reason"]})
        access_record(profile=self.profile, staff=self.request.user, action=ProfileAccess.CONSENT,
                      detail=f"{'gave' if data['granted'] else 'withdrew'} {data['channel']}/{data['topic']}")
        messages.success(self.request, "Consent recorded.")
        return super().form_valid(form)
