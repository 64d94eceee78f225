"""The test-services runner gives the suite real PostgreSQL and Redis."""

import os
import socket

import pytest
from django.conf import settings
from django.db import connection

from scripts import test_services


@pytest.mark.skipif(os.environ.get("TEST_EXPECT_POSTGRES") != "1", reason="not under make test")
@pytest.mark.django_db
def test_suite_runs_on_postgresql_when_the_runner_provides_it():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_redis_answers():
    from django.core.cache import cache

    cache.set("test-services-ping", "pong", 5)
    assert cache.get("test-services-ping") == "pong"
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def test_free_port_is_bindable():
    port = test_services.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_wait_for_port_gives_up_with_a_clear_error():
    with pytest.raises(RuntimeError, match="nothing is listening"):
        test_services.wait_for_port(test_services.free_port(), timeout=0.3)


def test_runner_without_a_command_prints_usage(capsys):
    assert test_services.main([]) == 2
    assert "Run a command" in capsys.readouterr().err
