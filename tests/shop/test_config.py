"""Settings come from the environment and fail with a clear message when malformed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shop import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:pw@db.example.com:notaport/shop",
        "postgres://user:pw@db.example.com:5432/",
        "postgres:///shop",
        "mysqlx://user@host/shop",
        "not a url at all",
    ],
)
def test_malformed_database_url_is_explained(url):
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_URL is malformed .*Expected postgres://"):
        config.database_from_url(url)


def test_postgres_url_becomes_a_postgres_database():
    db = config.database_from_url("postgres://shop:s3cret@db.internal:6543/shopdb")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("db.internal", 6543, "shopdb", "shop")
    assert db["CONN_HEALTH_CHECKS"] is True


def test_without_database_url_sqlite_file_with_reusable_test_db(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db = config.database_settings(tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "var" / "shop.sqlite3")
    assert db["TEST"]["NAME"] == str(tmp_path / "var" / "test_shop.sqlite3")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("0", False)])
def test_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert config.env_bool("SOME_FLAG", not expected) is expected


def test_bad_boolean_is_explained(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='perhaps' is not a boolean"):
        config.env_bool("SOME_FLAG", False)


def test_redis_url_from_environment_and_embedded_default(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6380/0")
    assert config.redis_url(tmp_path) == ("redis://cache.internal:6380/0", False)
    assert config.cache_url("redis://cache.internal:6380/0", 1) == "redis://cache.internal:6380/1"
    monkeypatch.delenv("REDIS_URL")
    url, embedded = config.redis_url(tmp_path)
    assert embedded and url == f"unix://{tmp_path}/var/redis/redis.sock"
    assert config.celery_url(url, 0) == f"redis+socket://{tmp_path}/var/redis/redis.sock?virtual_host=0"


def test_malformed_redis_url_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "http://cache.internal/0")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL="):
        config.redis_url(tmp_path)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The suite's own test-only defaults (tests/settings.py) must not leak into these runs.
    from tests.settings import TEST_ENVIRONMENT

    dropped = {"DATABASE_URL", "DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE",
               *TEST_ENVIRONMENT}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=120,
    )


def test_manage_py_reports_malformed_database_url_without_traceback():
    result = _manage("check", DATABASE_URL="postgres://u:p@db:port/shop", SECRET_KEY="x" * 50)
    assert result.returncode == 2
    assert "Configuration error: DATABASE_URL is malformed" in result.stderr
    assert "Traceback" not in result.stderr


def test_manage_py_requires_a_secret_key_in_production():
    environment = {"SECRET_KEY": "", "DATABASE_URL": "postgres://u:p@db:5432/shop"}
    result = _manage("check", **environment)
    assert result.returncode == 2
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY="a-long-random-production-secret-key-" + "x9Y7" * 10,
        ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="postgres://shop:pw@127.0.0.1:5432/shop",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SITE_URL="https://shop.example.com",  # links in e-mails (unsubscribe, order status)
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
