"""A gunicorn server for the HTTP benchmarks, configured as production runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Threaded workers: while one request waits on Redis, the others run, and the stream
# appends of concurrent requests share one round trip (tracking.stream's group commit).
GUNICORN_OPTIONS = ["--workers", "2", "--worker-class", "gthread", "--threads", "8"]


@contextmanager
def write_key(name: str):
    """A server write key for the run, deleted afterwards; yields its basic-auth credentials."""
    import base64

    from tracking.models import WriteKey

    _key, raw = WriteKey.generate(name=name)
    try:
        yield base64.b64encode(f"{raw}:".encode()).decode()
    finally:
        WriteKey.objects.filter(name=name).delete()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn():
    """Serve ``bench.settings`` on a free port; yields the base URL."""
    from django.conf import settings

    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": settings.REDIS_URL}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shop.wsgi", "--bind", f"127.0.0.1:{port}",
         *GUNICORN_OPTIONS, "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/__bench/baseline/", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("gunicorn exited at start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
