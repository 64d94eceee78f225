"""Management commands of tracking."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tracking.models import WriteKey

pytestmark = pytest.mark.django_db


def test_create_write_key_prints_a_key_that_is_stored_only_as_a_hash():
    out = StringIO()
    call_command("tracking_create_write_key", "Storefront SDK", stdout=out)
    raw = out.getvalue().strip()
    key = WriteKey.objects.get()
    assert len(raw) >= 30 and key.name == "Storefront SDK" and key.kind == WriteKey.SERVER
    assert key.key_hash == WriteKey.hash(raw) and raw not in key.key_hash
    assert raw.startswith(key.prefix)


def test_browser_key():
    call_command("tracking_create_write_key", "Web", "--browser", stdout=StringIO())
    assert WriteKey.objects.get().kind == WriteKey.BROWSER


def test_blank_name_is_refused():
    with pytest.raises(CommandError, match="NAME must be"):
        call_command("tracking_create_write_key", "  ", stdout=StringIO())


def test_consumer_refuses_a_bad_batch_size():
    with pytest.raises(CommandError, match="--batch must be at least 1"):
        call_command("tracking_consume", "--batch", "0", "--until-idle", stdout=StringIO())
