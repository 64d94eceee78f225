"""Template helpers: links from Oscar's own pages to the eCRM's (an order → its customer's
card), and percentages for the reports."""

from django import template
from django.urls import reverse

from ecrm.models import Profile
from ecrm.services import _owners
from tracking.graph import guest_person

register = template.Library()


@register.simple_tag
def customer_card_url(order) -> str:
    """The card of the order's customer, or "" when they have no profile yet."""
    person = str(order.user_id) if order.user_id else guest_person(order.guest_email or "")
    if not order.user_id and not order.guest_email:
        return ""
    profile = Profile.objects.filter(person_key__in=_owners({person})).only("pk").first()
    return reverse("ecrm-dashboard:customer", kwargs={"pk": profile.pk}) if profile else ""


@register.filter
def percent(fraction) -> str:
    """0.25 -> "25 %"; None (nothing to divide by) -> "—"."""
    if fraction is None or fraction == "":
        return "—"
    return f"{round(float(fraction) / 0.01)} %"


@register.filter
def duration(value) -> str:
    """A timedelta as "1 h 05 min", "4 min 20 s" or "35 s"; None -> "—"."""
    if value is None or value == "":
        return "—"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


@register.simple_tag
def first_name_of(user) -> str:
    """What to call a signed-in customer: their account's first name, else the one their
    profile learnt (an identify call's traits); "" for a visitor, or someone with neither.
    Only ever asked about signed-in users, so anonymous pages stay the same for everyone."""
    if user is None or not user.is_authenticated:
        return ""
    if user.first_name:
        return user.first_name
    profile = Profile.objects.filter(user=user).only("first_name").first()
    return profile.first_name if profile else ""
