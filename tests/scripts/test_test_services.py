"""The test-services runner (``make test``) gives the suite real PostgreSQL and Redis."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from scripts import test_services

ROOT = Path(__file__).resolve().parents[2]
HAS_SERVERS = test_services.postgres_bindir() is not None and shutil.which("redis-server") is not None
# Under `make test` with throwaway or given servers, the servers' own tests must run, not skip.
needs_servers = pytest.mark.skipif(
    not HAS_SERVERS and os.environ.get("TEST_EXPECT_POSTGRES") != "1",
    reason="PostgreSQL server binaries and redis-server are not installed",
)


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
    with pytest.raises(test_services.ServiceError, match="nothing is listening"):
        test_services.wait_for_port(test_services.free_port(), timeout=0.3)


def test_wait_for_port_notices_a_server_that_died():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(4)"])
    process.wait()
    with pytest.raises(test_services.ServiceError, match="exited with status 4"):
        test_services.wait_for_port(test_services.free_port(), timeout=5, process=process)


def test_runner_without_a_command_prints_usage(capsys):
    assert test_services.main([]) == 2
    assert "Run a command" in capsys.readouterr().err


def test_newest_postgresql_version_is_chosen(tmp_path, monkeypatch):
    monkeypatch.setattr(test_services.shutil, "which", lambda name: None)
    for version in ("9.6", "15", "13"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    found = test_services.postgres_bindir(str(tmp_path / "*" / "bin" / "initdb"))
    assert found == tmp_path / "15" / "bin"
    assert test_services.postgres_bindir(str(tmp_path / "none" / "initdb")) is None


def test_environment_points_the_suite_at_the_servers():
    env = test_services.test_environment(
        "postgres://u@127.0.0.1:5999/postgres", "redis://127.0.0.1:6999/0",
        base={"DATABASE_URL": "sqlite:///old.sqlite3", "PATH": "/bin"},
    )
    assert env["DATABASE_URL"] == "postgres://u@127.0.0.1:5999/postgres"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6999/0"
    assert env["TEST_EXPECT_POSTGRES"] == "1"
    assert env["SECRET_KEY"] and "DEBUG" not in env
    assert env["PATH"] == "/bin"


def test_environment_without_postgresql_uses_sqlite_and_keeps_a_given_secret():
    env = test_services.test_environment(
        "", "unix:///tmp/redis.sock",
        base={"DATABASE_URL": "postgres://prod/db", "SECRET_KEY": "mine", "TEST_EXPECT_POSTGRES": "1"},
    )
    assert "DATABASE_URL" not in env and "TEST_EXPECT_POSTGRES" not in env
    assert env["SECRET_KEY"] == "mine"


def test_server_commands_run_as_postgres_only_when_root():
    command = test_services._as_server_user(["initdb", "-D", "x"])
    if os.geteuid() == 0:
        assert command[-3:] == ["initdb", "-D", "x"] and "postgres" in " ".join(command[:-3])
    else:
        assert command == ["initdb", "-D", "x"]


def _listening(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _runner(child_code: str, tmpdir: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "REDIS_URL", "DATABASE_URL"}}
    env["TMPDIR"] = tmpdir
    return subprocess.Popen(
        [sys.executable, "scripts/test_services.py", "--", sys.executable, "-c", child_code],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture
def server_tmpdir():
    """A temporary directory the ``postgres`` user can reach (pytest's tmp_path is root-only)."""
    path = tempfile.mkdtemp(prefix="test-services-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


CHILD_CONNECTS = """
import os, sys, psycopg, redis
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    print(conn.execute("select current_setting('fsync'), version()").fetchone())
print(redis.Redis.from_url(os.environ["REDIS_URL"]).ping())
print(os.environ["DATABASE_URL"], os.environ["REDIS_URL"], os.environ["TEST_EXPECT_POSTGRES"], flush=True)
sys.exit(7)
"""


@needs_servers
@pytest.mark.slow
def test_runner_starts_throwaway_servers_passes_the_exit_status_and_removes_them(server_tmpdir):
    runner = _runner(CHILD_CONNECTS, server_tmpdir)
    out, err = runner.communicate(timeout=120)
    assert runner.returncode == 7, err
    assert "('off', 'PostgreSQL" in out and "True" in out
    database_url, redis_url, expect = out.strip().splitlines()[-1].split()
    assert database_url.startswith("postgres://") and redis_url.startswith("redis://127.0.0.1:")
    assert expect == "1"
    assert not _listening(database_url) and not _listening(redis_url)
    assert os.listdir(server_tmpdir) == []


@needs_servers
@pytest.mark.slow
def test_runner_stops_the_servers_when_terminated(server_tmpdir):
    runner = _runner(
        "import os, time; print(os.environ['DATABASE_URL'], os.environ['REDIS_URL'], flush=True); "
        "time.sleep(120)",
        server_tmpdir,
    )
    try:
        database_url, redis_url = runner.stdout.readline().split()
        assert _listening(database_url) and _listening(redis_url)
        assert len(os.listdir(server_tmpdir)) == 1
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while (_listening(database_url) or _listening(redis_url)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _listening(database_url) and not _listening(redis_url)
    assert os.listdir(server_tmpdir) == []
