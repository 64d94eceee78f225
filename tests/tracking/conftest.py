import base64

import pytest

from tracking.models import WriteKey


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
