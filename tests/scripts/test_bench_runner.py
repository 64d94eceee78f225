"""``bench/run.py`` refuses a database it cannot use with one line saying why, for every
benchmark, instead of a traceback from the middle of one."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import database_url

ROOT = Path(__file__).resolve().parents[2]


def _run(database: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # bench/run.py picks bench.settings
    return subprocess.run([sys.executable, "bench/run.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("bench", ["pipeline", "support", "storefront"])
def test_a_missing_database_is_one_line_not_a_traceback(bench):
    if not database_url().startswith("postgres"):
        pytest.skip("needs the PostgreSQL server")
    missing = f"bench_missing_{uuid.uuid4().hex[:8]}"
    url = urlsplit(database_url())._replace(path=f"/{missing}").geturl()
    result = _run(url, "--only", bench)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: cannot open the benchmark database")
    assert missing in lines[0] and "does not exist" in lines[0] and f"createdb {missing}" in lines[0]
