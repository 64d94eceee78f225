"""``manage.py check`` explains a bad TRACKING_* setting."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def test_the_default_settings_pass():
    call_command("check", verbosity=0)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("TRACKING_STREAM_SHARDS", 0, "must be an integer of at least 1"),
    ("TRACKING_CONSUMER_BATCH", "2000", "must be an integer of at least 1"),
    ("TRACKING_STREAM", "tracking events", "without spaces"),
    ("TRACKING_BOT_USER_AGENTS", "bot|(", "is not a regular expression"),
    ("TRACKING_OWN_DOMAINS", "shop.example.com", "list of host names"),
    ("TRACKING_REQUIRE_CONSENT", "yes", "must be True or False"),
    ("TRACKING_MAX_BATCH_BYTES", 1000, "must not be smaller than TRACKING_MAX_EVENT_BYTES"),
])
def test_a_bad_setting_is_explained(settings, name, value, message):
    setattr(settings, name, value)
    with pytest.raises(SystemCheckError, match=message):
        call_command("check", verbosity=0)
