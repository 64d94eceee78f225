"""``scripts/manage.py`` (behind ``make migrate``, ``seed``, ``check``) leaves no embedded Redis behind."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from shop.embedded_redis import is_running

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(settings.REDIS_EMBEDDED, reason="this test run itself uses the embedded Redis")
def test_a_command_on_the_embedded_redis_stops_the_server_it_started(tmp_path):
    running_before = is_running(ROOT)  # a demo in another terminal keeps its server
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/db.sqlite3"
    result = subprocess.run(
        [sys.executable, "scripts/manage.py", "shell", "-c",
         "from django.conf import settings; from django.core.cache import cache; "
         "cache.set('wrapper', 1); print(settings.DEBUG, settings.REDIS_EMBEDDED, cache.get('wrapper'))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["True", "True", "1"]
    assert is_running(ROOT) == running_before


def test_the_exit_status_of_the_command_is_passed_through(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/db.sqlite3"
    result = subprocess.run([sys.executable, "scripts/manage.py", "no_such_command"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Unknown command" in result.stderr
