"""Segments in Oscar's dashboard: list, build with a live count, members, CSV in and out."""

from __future__ import annotations

import csv
import io
import json

from django import forms
from django.contrib import messages
from django.db.models.functions import Lower
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView

from ecrm.desk import bulk_access_record
from ecrm.models import Profile, ProfileAccess, Segment, SegmentMembership
from ecrm.segment_rules import RuleError, validate
from ecrm.segments import segment_count, segment_refresh, static_members_set
from tracking.dashboard.views import StaffPermission

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class SegmentForm(forms.ModelForm):
    rules = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
                            help_text="Written by the rule builder; edit it here only if you prefer JSON.")

    class Meta:
        model = Segment
        fields = ["name", "description", "kind", "rules"]

    def clean_rules(self):
        text = (self.cleaned_data.get("rules") or "").strip()
        if self.cleaned_data.get("kind") == Segment.STATIC:
            return {}
        try:
            rules = json.loads(text or "null")
            validate(rules)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"The rules are not valid JSON: {exc.msg} (character {exc.pos}).") from None
        except RuleError as exc:
            raise forms.ValidationError(str(exc)) from None
        return rules


class SegmentListView(StaffPermission, ListView):
    permission_required = "ecrm.view_segment"
    template_name = "ecrm/dashboard/segment_list.html"
    context_object_name = "segments"
    paginate_by = 50

    def get_queryset(self):
        return Segment.objects.all()


class _SegmentEdit(StaffPermission):
    model = Segment
    form_class = SegmentForm
    template_name = "ecrm/dashboard/segment_form.html"

    def get_initial(self):
        initial = super().get_initial()
        if self.object is not None:
            initial["rules"] = json.dumps(self.object.rules, indent=2)
        return initial

    def form_valid(self, form):
        response = super().form_valid(form)
        joined, left = segment_refresh(self.object)
        messages.success(self.request, f"Saved “{self.object}”: {self.object.member_count} members "
                                       f"({joined} joined, {left} left).")
        return response

    def get_success_url(self):
        return reverse("ecrm-dashboard:segment", kwargs={"pk": self.object.pk})


class SegmentCreateView(_SegmentEdit, CreateView):
    permission_required = "ecrm.add_segment"

    def get_object(self, queryset=None):
        return None

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        return super().form_valid(form)


class SegmentUpdateView(_SegmentEdit, UpdateView):
    permission_required = "ecrm.change_segment"


class SegmentCountView(StaffPermission, View):
    """The live count while editing: POST the rules as JSON, get ``{"count": n}`` or a 400
    with what is wrong."""

    permission_required = "ecrm.view_segment"

    def post(self, request):
        try:
            rules = json.loads(request.body or b"null")
            return JsonResponse({"count": segment_count(rules)})
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JsonResponse({"error": "the rules are not valid JSON"}, status=400)
        except RuleError as exc:
            return JsonResponse({"error": str(exc)}, status=400)


class SegmentDetailView(StaffPermission, DetailView):
    permission_required = "ecrm.view_segment"
    model = Segment
    template_name = "ecrm/dashboard/segment_detail.html"
    context_object_name = "segment"

    def get_context_data(self, **kwargs):
        memberships = self.object.memberships.select_related("profile")
        return super().get_context_data(
            members=memberships.filter(left_at=None)[:100],
            leavers=memberships.exclude(left_at=None).order_by("-left_at")[:20],
            rules_json=json.dumps(self.object.rules, indent=2), **kwargs)


class SegmentExportView(StaffPermission, View):
    """Members as CSV: bulk personal data, so marketing only (``ecrm.export_segment``)."""

    permission_required = "ecrm.export_segment"

    def get(self, request, pk):
        segment = get_object_or_404(Segment, pk=pk)
        rows = SegmentMembership.objects.filter(segment=segment, left_at=None).select_related(
            "profile").order_by("joined_at").iterator(chunk_size=2000)

        staff = request.user

        def lines():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["email", "first_name", "last_name", "person_key", "joined_at"])
            exported = []
            for membership in rows:
                p = membership.profile
                writer.writerow([p.email, p.first_name, p.last_name, p.person_key, membership.joined_at.isoformat()])
                exported.append(p)
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            if buffer.getvalue():
                yield buffer.getvalue()
            # Every exported customer's audit log says so (written once the file is complete).
            bulk_access_record(profiles=exported, staff=staff, action=ProfileAccess.EXPORT,
                               detail=f"segment export: {segment.name}")

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-members.csv"'
        return response


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV with an “email” column (other columns are ignored).")


class StaticUploadView(StaffPermission, FormView):
    """Replace a static segment's members with the customers an uploaded CSV names."""

    permission_required = "ecrm.change_segment"
    form_class = UploadForm
    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        self.segment = get_object_or_404(Segment, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def _back(self) -> HttpResponse:
        return redirect("ecrm-dashboard:segment", pk=self.segment.pk)

    def form_invalid(self, form):
        messages.error(self.request, "Choose a CSV file to upload.")
        return self._back()

    def form_valid(self, form):
        if self.segment.kind != Segment.STATIC:
            messages.error(self.request, "Only a static segment takes an uploaded list; this one has rules.")
            return self._back()
        upload = form.cleaned_data["file"]
        try:
            emails, problems = read_emails(upload)
        except ValueError as exc:
            messages.error(self.request, str(exc))
            return self._back()
        found = dict(Profile.objects.annotate(address=Lower("email")).filter(address__in=emails)
                     .values_list("address", "pk"))
        unknown = sorted(emails - set(found))
        joined, left = static_members_set(self.segment, set(found.values()))
        messages.success(self.request, f"{len(found)} members ({joined} joined, {left} left).")
        if problems or unknown:
            detail = problems[:5] + [f"no customer with e-mail {email}" for email in unknown[:5]]
            more = len(problems) + len(unknown) - len(detail)
            messages.warning(self.request, "Not added: " + "; ".join(detail) + (f"; and {more} more" if more > 0 else ""))
        return self._back()


def read_emails(upload) -> tuple[set[str], list[str]]:
    """Lower-cased e-mails from a CSV upload, and the lines that are not e-mails.
    Raises ValueError (the message is for the marketer) for a file that is not such a CSV."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValueError(f"The file is {upload.size:,} bytes; the limit is {MAX_UPLOAD_BYTES:,}.")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text; export it as CSV (UTF-8).") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = {name.strip().lower(): name for name in reader.fieldnames or []}
    if "email" not in columns:
        raise ValueError("The CSV needs an “email” column in its first line.")
    emails, problems = set(), []
    for row in reader:
        value = (row.get(columns["email"]) or "").strip().lower()
        if "@" in value and len(value) <= 254:
            emails.add(value)
        elif value or any(row.values()):
            problems.append(f"line {reader.line_num}: {value or 'no e-mail'!s}")
    return emails, problems
