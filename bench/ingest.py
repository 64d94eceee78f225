"""Tracking ingest throughput: gunicorn + wrk, against a bare JSON view in the same run.

Prints single-event ``/tracking/v1/track`` requests per second as a ratio to
a view that only parses JSON, served through the store's middleware (target:
at least 0.8). The tracking API answers ahead of that middleware
(``TrackingApiMiddleware``), so the same bare view answered at that point is
measured too, to show the tracking code's own cost. Then events per second
accepted by ``/tracking/v1/batch`` (100 events a request). Needs Debian's
``wrk`` and a reachable Redis (REDIS_URL, or the embedded one).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.middleware import LEAN_PATH
from bench.server import GUNICORN_OPTIONS, gunicorn, write_key

ROUNDS = 3
DURATION = "5s"
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


def _wrk(url: str, body: str, auth: str, workdir: Path, duration: str = DURATION) -> float:
    script = workdir / "post.lua"
    script.write_text(LUA % {"auth": auth} + f"wrk.body = {json.dumps(body)}\n")
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--latency", "-s", str(script), url],
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
    from tracking.stream import client, shard_streams

    event = {"event": "Product Viewed", "anonymousId": "bench-visitor", "messageId": "MSGID",
             "properties": {"product_id": "DEMO00001", "price": 12.5}}
    batch = {"batch": [{**event, "type": "track", "messageId": f"MSGID-{i}"}
                       for i in range(BATCH_SIZE)]}
    rates: dict[str, list[float]] = {"bare": [], "lean": [], "track": [], "batch": []}
    urls = {"bare": "/__bench/json/", "lean": LEAN_PATH, "track": "/tracking/v1/track"}
    try:
        with write_key("bench") as auth, gunicorn() as base, tempfile.TemporaryDirectory() as workdir:
            for url in urls.values():
                _wrk(base + url, json.dumps(event), auth, Path(workdir), duration="2s")  # warm up
            for _round in range(ROUNDS):  # interleaved, so that machine noise falls on all alike
                for name, url in urls.items():
                    rates[name].append(_wrk(base + url, json.dumps(event), auth, Path(workdir)))
            rates["batch"].append(_wrk(f"{base}/tracking/v1/batch", json.dumps(batch), auth, Path(workdir)))
    finally:
        client().delete(*shard_streams())
    baseline, track = statistics.median(rates["bare"]), statistics.median(rates["track"])
    lean = statistics.median(rates["lean"])
    ratios = " ".join(f"{t / b:.2f}" for t, b in zip(rates["track"], rates["bare"]))
    print(f"gunicorn {' '.join(GUNICORN_OPTIONS)}; wrk {CONNECTIONS} connections, "
          f"{ROUNDS} interleaved rounds of {DURATION}; medians")
    print(f"bare JSON view             {baseline:>10.0f} requests/s")
    print(f"/tracking/v1/track         {track:>10.0f} requests/s   ratio {track / baseline:.2f} "
          f"(target >= 0.80; per round {ratios})")
    print(f"bare JSON view, lean       {lean:>10.0f} requests/s   /track against it {track / lean:.2f} "
          f"(both answered ahead of the storefront middleware: the tracking code's own cost, "
          f"{(1 / track - 1 / lean) * 1e6:.0f} µs a request)")
    print(f"/tracking/v1/batch ({BATCH_SIZE}/req) {rates['batch'][0] * BATCH_SIZE:>10.0f} events/s "
          f"(goal >= 10,000)")
    return 0
