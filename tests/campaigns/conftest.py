"""Fixtures of the campaigns tests: a customer with a profile, and real Celery workers that
send through a mail backend writing each message to a folder (tests.campaigns.mail)."""

from __future__ import annotations

import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import celery_worker_start, processes_stop, subprocess_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_design_products():
    """E-mail designs cache the newest/popular products for a minute: none carries over."""
    from campaigns.design_products import shared_products_clear

    shared_products_clear()


@pytest.fixture
def customer(db):
    """A registered customer with an ecrm profile (no consent given yet)."""
    from django.contrib.auth import get_user_model

    from ecrm.models import Profile
    from ecrm.services import profiles_refresh

    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw-12345!", first_name="Ada")
    profiles_refresh(person_keys={str(user.pk)})
    return Profile.objects.get(person_key=str(user.pk))


@pytest.fixture
def product(db):
    from oscar.test.factories import create_product

    return create_product(title="Kettle", upc="KETTLE-1", price=Decimal("20.00"), num_in_stock=50)


@pytest.fixture
def marketing_template(db):
    """An Oscar e-mail template staff wrote in the dashboard, for a marketing message."""
    from oscar.core.loading import get_model

    CommunicationEventType = get_model("communication", "CommunicationEventType")
    return CommunicationEventType.objects.create(
        code="WINTER_NEWS", name="Winter news", category=CommunicationEventType.USER_RELATED,
        email_subject_template="Winter news for {{ customer.first_name }}",
        email_body_html_template='<p>Hello {{ customer.first_name }}, new <a href="https://shop.example/new">arrivals</a>.</p>'
                                 '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>')


@pytest.fixture
def mail_workers(transactional_db, settings, tmp_path):
    """Start real Celery workers (``start(mode)``) on a private queue; each message they send
    is written to ``folder`` as an .eml file. Modes: ok, fail (every send raises), slow (the
    send blocks for a minute before writing, so the test can kill the worker mid-send)."""
    queue = f"test-campaigns-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "mail"
    folder.mkdir()
    settings.CAMPAIGNS_QUEUE = queue
    processes = []

    def start(mode: str = "ok") -> subprocess.Popen:
        env = {**subprocess_env(), "DJANGO_SETTINGS_MODULE": "tests.campaigns.worker_settings",
               "CAMPAIGNS_TEST_QUEUE": queue, "CAMPAIGNS_TEST_MAIL_DIR": str(folder),
               "CAMPAIGNS_TEST_MAIL_MODE": mode}
        process = celery_worker_start(queue, env)
        processes.append(process)
        return process

    start.queue, start.folder = queue, folder
    yield start
    processes_stop(processes)
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL) as connection:  # leave no test queue behind
        connection.default_channel.client.delete(queue)


def sent_mail(folder: Path) -> list:
    """The messages a worker sent, parsed."""
    from email import message_from_bytes, policy

    return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(folder.glob("*.eml"))]


from tests.campaigns.flow_helpers import flow_settings, flow_template  # noqa: E402,F401  the flow tests' fixtures
