"""``{% ecrm_tracker %}``: the browser tracker's script tag, for the store's base template."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from tracking.defaults import setting
from tracking.models import WriteKey

register = template.Library()


@register.simple_tag(takes_context=True)
def ecrm_tracker(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    user_id = str(user.pk) if user is not None and user.is_authenticated else ""
    return format_html(
        '<script src="{}" data-write-key="{}" data-endpoint="/tracking/v1" data-user-id="{}" '
        'data-consent-required="{}" defer></script>',
        static("tracking/ecrm.js"), WriteKey.storefront_key(), user_id,
        "true" if setting("TRACKING_REQUIRE_CONSENT") else "false",
    )
