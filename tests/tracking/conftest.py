import base64
import uuid

import pytest
from django.test import override_settings

from tracking.models import WriteKey


@pytest.fixture
def stream_name():
    """A private stream (and group) per test, so tests never see each other's events."""
    name = f"test-tracking-{uuid.uuid4().hex[:10]}"
    with override_settings(TRACKING_STREAM=name, TRACKING_CONSUMER_GROUP=f"{name}-group"):
        yield name
    from tracking.stream import client

    client().delete(name)


@pytest.fixture
def server_key(db):
    _key, raw = WriteKey.generate(name="test server")
    return raw


@pytest.fixture
def browser_key(db):
    _key, raw = WriteKey.generate(name="test browser", kind=WriteKey.BROWSER)
    return raw


def basic_auth(raw_key: str) -> str:
    return "Basic " + base64.b64encode(f"{raw_key}:".encode()).decode()
