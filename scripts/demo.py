"""Run the demo store: migrate, seed, then the web server, a Celery worker, beat and
the tracking consumer (events from the Redis stream into the database).

    python scripts/demo.py [--seed 42] [--no-seed] [--port 8000]

Without DATABASE_URL/REDIS_URL everything runs on embedded defaults: a SQLite
file and the embedded Redis server under ``var/``. Ctrl-C stops every process
this script started, the embedded Redis included.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _forward(name: str, stream) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"[{name:<6}] {line}")
        sys.stdout.flush()


class Processes:
    """The demo's long-running children; stopping is idempotent."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str]) -> None:
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, start_new_session=True,  # Ctrl-C reaches us only; we stop them
        )
        self.children[name] = process
        threading.Thread(target=_forward, args=(name, process.stdout), daemon=True).start()

    def first_exited(self) -> tuple[str, int] | None:
        for name, process in self.children.items():
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop(self, timeout: float = 15.0) -> None:
        for process in self.children.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.children.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def banner(port: int) -> str:
    sys.path.insert(0, str(ROOT))
    from shop.demo.accounts import format_logins

    base = f"http://127.0.0.1:{port}"
    return "\n".join([
        "",
        "=" * 72,
        "The demo store is running. Ctrl-C stops everything.",
        f"  Store            {base}/",
        f"  Oscar dashboard  {base}/dashboard/",
        f"  Wagtail admin    {base}/cms/",
        f"  Django admin     {base}/django-admin/",
        "Staff logins:",
        format_logins(),
        "=" * 72,
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-seed", action="store_true", help="start without seeding")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if port_in_use("127.0.0.1", args.port):
        say(f"Port {args.port} on 127.0.0.1 is already in use (another demo running?). "
            f"Stop it, or choose another port: python scripts/demo.py --port 8001")
        return 2

    embedded_redis = not env.get("REDIS_URL")
    processes = Processes(env)
    stopping = threading.Event()

    def request_stop(signum, frame):  # noqa: ARG001 - signal handler signature
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    status = 0
    try:
        say("Migrating the database…")
        manage("migrate", "--noinput", "-v", "0", env=env)
        if not args.no_seed:
            say(f"Seeding the demo store (seed {args.seed}; a second run adds nothing)…")
            manage("shop_seed_demo", "--seed", str(args.seed), env=env)
        processes.start("web", [PY, "manage.py", "runserver", f"127.0.0.1:{args.port}",
                                "--noreload", "--skip-checks"])
        processes.start("worker", [PY, "-m", "celery", "-A", "shop", "worker",
                                   "--loglevel", "INFO", "--concurrency", "2"])
        processes.start("beat", [PY, "-m", "celery", "-A", "shop", "beat", "--loglevel", "INFO"])
        processes.start("events", [PY, "manage.py", "tracking_consume"])
        print(banner(args.port), flush=True)
        while not stopping.wait(0.5):
            exited = processes.first_exited()
            if exited:
                name, code = exited
                say(f"The {name} process stopped unexpectedly (exit status {code}); stopping the rest.")
                status = 1
                break
    except subprocess.CalledProcessError as exc:
        say(f"Setup failed: {' '.join(map(str, exc.cmd[1:]))} exited with status {exc.returncode}.")
        status = 1
    finally:
        say("Stopping…")
        processes.stop()
        if embedded_redis:
            sys.path.insert(0, str(ROOT))
            from shop.embedded_redis import stop

            stop(ROOT)
        say("Stopped.")
    return status


if __name__ == "__main__":
    sys.exit(main())
