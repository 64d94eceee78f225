"""``scripts/demo.py`` (what ``make demo`` runs): starts web, worker and beat; Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from scripts.test_services import free_port

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except OSError:
        return 0


@pytest.mark.slow
def test_demo_serves_the_store_and_ctrl_c_stops_every_process(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3",
               SEARCH_INDEX_PATH=str(tmp_path / "index"), MEDIA_ROOT=str(tmp_path / "media"))
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--no-seed", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(demo.stdout.readline, "")), daemon=True)
    reader.start()

    def worker_ready() -> bool:
        return any("[worker]" in line and " ready." in line for line in lines)

    try:
        deadline = time.monotonic() + 240
        while _get(f"http://127.0.0.1:{port}/") != 200 or not worker_ready():
            assert demo.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "the demo did not start:\n" + "".join(lines)
            time.sleep(1)
        assert _get(f"http://127.0.0.1:{port}/catalogue/") == 200
        children = psutil.Process(demo.pid).children(recursive=True)
        commands = [" ".join(c.cmdline()) for c in children]
        assert any("runserver" in c for c in commands)
        assert any("worker" in c for c in commands)
        assert any("beat" in c for c in commands)
        assert any("tracking_consume" in c for c in commands)
        catchup = [c for c in children if "-Q background" in " ".join(c.cmdline())]
        assert catchup and all(c.nice() == 19 for c in catchup)  # pool process included
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=60)
        reader.join(timeout=10)
    output = "".join(lines)
    assert demo.returncode == 0, output
    assert "Staff logins" in output and f"http://127.0.0.1:{port}/dashboard/" in output
    assert "beat: Starting" in output
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert _get(f"http://127.0.0.1:{port}/") == 0
