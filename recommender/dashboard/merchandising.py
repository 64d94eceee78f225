"""Merchandising in Oscar's dashboard: pins and bans per slot, and which product classes
may be recommended again after a purchase. Serving in every process picks a change up
within seconds (``recommender.rules``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.views import View
from django.views.generic import CreateView, ListView, TemplateView, UpdateView
from oscar.core.loading import get_class, get_model
from oscar.forms.widgets import DateTimePickerInput

from recommender.defaults import setting
from recommender.models import MerchandisingRule, RepurchasePolicy
from recommender.slots import SLOTS
from tracking.dashboard.views import StaffPermission

ProductSelect = get_class("dashboard.catalogue.widgets", "ProductSelect")
Category = get_model("catalogue", "Category")
ProductClass = get_model("catalogue", "ProductClass")
MAX_POSITION = 24  # the most a slot shows (the REST endpoint's k)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


class MerchandisingRuleForm(forms.ModelForm):
    slot = forms.ChoiceField(choices=[("", "Every slot")] + [(name, f"{label} ({name})") for name, label in SLOTS.items()],
                             required=False)
    on_category = CategoryChoiceField(queryset=Category.objects.order_by("path"), required=False,
                                      label="Only in category",
                                      help_text="Only for products in this category or below (or “trending in” it).")
    position = forms.IntegerField(min_value=1, max_value=MAX_POSITION, initial=1,
                                  help_text="For pins: 1 is the first place.")

    class Meta:
        model = MerchandisingRule
        fields = ["action", "product", "slot", "on_product", "on_category", "position", "starts_at", "ends_at", "note"]
        widgets = {"product": ProductSelect, "on_product": ProductSelect,
                   "starts_at": DateTimePickerInput, "ends_at": DateTimePickerInput}

    def clean(self):
        data = super().clean()
        product, on_product = data.get("product"), data.get("on_product")
        if product is not None and on_product is not None and product.pk == on_product.pk:
            self.add_error("on_product", "A product is never recommended on its own page: choose another page.")
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The end must come after the start.")
        if data.get("action") == MerchandisingRule.PIN and product is not None and not product.is_public:
            self.add_error("product", "This product is not public, so it is never recommended: it cannot be pinned.")
        return data


class _Invalid400:
    """A form with errors comes back with status 400, so scripts and tests can tell."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class RuleListView(StaffPermission, ListView):
    permission_required = "recommender.view_merchandisingrule"
    template_name = "recommender/dashboard/rule_list.html"
    context_object_name = "rules"
    paginate_by = 50

    def get_queryset(self):
        rules = MerchandisingRule.objects.select_related("product", "on_product", "on_category", "created_by")
        action = self.request.GET.get("action", "")
        return rules.filter(action=action) if action in dict(MerchandisingRule.ACTIONS) else rules

    def get_context_data(self, **kwargs):
        return super().get_context_data(slots=SLOTS, action=self.request.GET.get("action", ""), **kwargs)


class _RuleEdit(_Invalid400, StaffPermission):
    model = MerchandisingRule
    form_class = MerchandisingRuleForm
    template_name = "recommender/dashboard/rule_form.html"
    success_url = reverse_lazy("recommender-dashboard:rules")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Saved: {self.object}. The store shows it within seconds.")
        return response


class RuleCreateView(_RuleEdit, CreateView):
    permission_required = "recommender.add_merchandisingrule"

    def get_initial(self):
        action = self.request.GET.get("action")
        return {"action": action} if action in dict(MerchandisingRule.ACTIONS) else {}

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        return super().form_valid(form)


class RuleUpdateView(_RuleEdit, UpdateView):
    permission_required = "recommender.change_merchandisingrule"


class RuleDeleteView(StaffPermission, View):
    permission_required = "recommender.delete_merchandisingrule"

    def post(self, request, pk):
        rule = get_object_or_404(MerchandisingRule, pk=pk)
        rule.delete()
        messages.success(request, f"Deleted: {rule}.")
        return redirect("recommender-dashboard:rules")


CHOICES = [("default", "Store default"), ("yes", "Can be bought again"), ("no", "Bought once")]


class RepurchaseForm(forms.Form):
    """One choice per product class: the store default, or can / cannot be bought again."""

    def __init__(self, *args, classes, policies, **kwargs):
        super().__init__(*args, **kwargs)
        self.classes = classes
        for product_class in classes:
            policy = policies.get(product_class.pk)
            self.fields[f"class_{product_class.pk}"] = forms.ChoiceField(
                choices=CHOICES, label=product_class.name,
                initial="default" if policy is None else ("yes" if policy else "no"))

    def rows(self):
        return [(product_class, self[f"class_{product_class.pk}"]) for product_class in self.classes]


class RepurchasePolicyView(StaffPermission, TemplateView):
    """Which product classes are consumables (recommended again to people who bought them)."""

    permission_required = "recommender.view_repurchasepolicy"
    template_name = "recommender/dashboard/repurchase.html"

    def _form(self, data=None):
        policies = dict(RepurchasePolicy.objects.values_list("product_class_id", "can_be_bought_again"))
        return RepurchaseForm(data, classes=list(ProductClass.objects.annotate(
            product_count=Count("products")).order_by("name")), policies=policies)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self._form())
        return super().get_context_data(default=setting("RECOMMENDER_REPEATABLE_DEFAULT"), **kwargs)

    def post(self, request):
        if not request.user.has_perm("recommender.change_repurchasepolicy"):
            return self.handle_no_permission()
        form = self._form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        with transaction.atomic():
            for product_class in form.classes:
                choice = form.cleaned_data[f"class_{product_class.pk}"]
                if choice == "default":
                    RepurchasePolicy.objects.filter(product_class=product_class).delete()
                else:
                    RepurchasePolicy.objects.update_or_create(product_class=product_class,
                                                              defaults={"can_be_bought_again": choice == "yes"})
        messages.success(request, "Saved. The store follows the new policies within seconds.")
        return redirect("recommender-dashboard:repurchase")
