"""Tracking ingest throughput: gunicorn + wrk, against a bare JSON view in the same run.

Prints single-event ``/tracking/v1/track`` requests per second as a ratio to
a view that only parses JSON (target: at least 0.8), and events per second
accepted by ``/tracking/v1/batch`` (100 events a request). Needs Debian's
``wrk`` and a reachable Redis (REDIS_URL, or the embedded one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION = "10s"
CONNECTIONS = "16"
BATCH_SIZE = 100

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic %(auth)s"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.gsub(wrk.body, "MSGID", tostring(counter) .. "-" .. tostring(math.random(1, 1e9)))
  return wrk.format(nil, nil, nil, body)
end
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk(url: str, body: str, auth: str, workdir: Path) -> float:
    script = workdir / "post.lua"
    script.write_text(LUA % {"auth": auth} + f"wrk.body = {json.dumps(body)}\n")
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{result.stdout}")
    return float(match.group(1))


def run(*, requests: int) -> int:  # noqa: ARG001 - wrk runs for a fixed duration instead
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk")
        return 2
    import base64

    from django.conf import settings

    from tracking.models import WriteKey

    _key, raw = WriteKey.generate(name="bench")
    auth = base64.b64encode(f"{raw}:".encode()).decode()
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": settings.REDIS_URL}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shop.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/__bench/baseline/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        event = {"event": "Product Viewed", "anonymousId": "bench-visitor", "messageId": "MSGID",
                 "properties": {"product_id": "DEMO00001", "price": 12.5}}
        batch = {"batch": [{**event, "type": "track", "messageId": f"MSGID-{i}"}
                           for i in range(BATCH_SIZE)]}
        with tempfile.TemporaryDirectory() as workdir:
            baseline = _wrk(f"{base}/__bench/json/", json.dumps(event), auth, Path(workdir))
            track = _wrk(f"{base}/tracking/v1/track", json.dumps(event), auth, Path(workdir))
            batches = _wrk(f"{base}/tracking/v1/batch", json.dumps(batch), auth, Path(workdir))
    finally:
        server.terminate()
        server.wait(timeout=20)
        WriteKey.objects.filter(name="bench").delete()
        from tracking.defaults import setting
        from tracking.stream import client

        client().delete(setting("TRACKING_STREAM"))
    print(f"gunicorn 2 workers, wrk {CONNECTIONS} connections for {DURATION} each")
    print(f"bare JSON view             {baseline:>10.0f} requests/s")
    print(f"/tracking/v1/track         {track:>10.0f} requests/s   ratio {track / baseline:.2f} "
          f"(target >= 0.80)")
    print(f"/tracking/v1/batch ({BATCH_SIZE}/req) {batches * BATCH_SIZE:>10.0f} events/s "
          f"(goal >= 10,000)")
    return 0
