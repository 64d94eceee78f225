"""Run the demo store: migrate, seed, then the web server, the Celery workers (one for
everything, one at the lowest CPU priority for the catch-up work behind the tracking
consumer: ``shop.processes``), beat and the tracking consumer (events from the Redis
stream into the database).

    python scripts/demo.py [--seed 42] [--no-seed] [--port 8000]

Without DATABASE_URL/REDIS_URL everything runs on embedded defaults: a SQLite
file and the embedded Redis server under ``var/``; when they are set they are
used as they are. Ctrl-C stops every process this script started, the
embedded Redis included; if one of them dies, the others are stopped too.
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
HOST = "127.0.0.1"


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on ``host:port`` (TIME_WAIT leftovers don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_owner(port: int) -> str:
    """``pid N (command)`` of the process listening on ``port``, when it can be found."""
    try:
        import psutil

        for conn in psutil.net_connections("tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return f"pid {conn.pid} ({' '.join(psutil.Process(conn.pid).cmdline())[:100]})"
    except Exception:  # noqa: BLE001 - only a hint for the message
        pass
    return ""


def port_in_use_message(port: int) -> str:
    owner = port_owner(port)
    return (
        f"Port {port} on {HOST} is already in use{' by ' + owner if owner else ''}"
        " (another demo running?). Stop it, or use another port: "
        f"make demo PORT={port + 1}"
    )


def urls(port: int) -> list[tuple[str, str]]:
    base = f"http://{HOST}:{port}"
    return [
        ("Store", f"{base}/"),
        ("Oscar dashboard", f"{base}/dashboard/"),
        ("Wagtail admin", f"{base}/cms/"),
        ("Django admin", f"{base}/django-admin/"),
    ]


def banner(port: int) -> str:
    sys.path.insert(0, str(ROOT))
    from shop.demo.accounts import format_logins

    return "\n".join([
        "",
        "=" * 72,
        "The demo store is running. Ctrl-C stops everything.",
        *(f"  {label:<16} {url}" for label, url in urls(port)),
        "Staff logins:",
        format_logins(),
        "=" * 72,
        "",
    ])


def commands(port: int) -> dict[str, list[str]]:
    """The long-running processes, by the name that prefixes their output."""
    sys.path.insert(0, str(ROOT))
    from shop.processes import celery_commands  # the same Celery processes production runs

    return {
        "web": [PY, "manage.py", "runserver", f"{HOST}:{port}", "--noreload", "--skip-checks"],
        **celery_commands(PY),
        "events": [PY, "manage.py", "tracking_consume"],
    }


def _forward(name: str, stream) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"[{name:<6}] {line}")
        sys.stdout.flush()


class Processes:
    """The demo's long-running children, each in its own process group.

    Their own groups keep a Ctrl-C at the terminal from reaching them half-way;
    ``stop`` ends each whole group (the Celery worker's pool processes too).
    """

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: dict[str, subprocess.Popen] = {}
        self.readers: list[threading.Thread] = []

    def start(self, name: str, command: list[str]) -> None:
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True,
        )
        self.children[name] = process
        reader = threading.Thread(target=_forward, args=(name, process.stdout), daemon=True)
        reader.start()
        self.readers.append(reader)

    def first_exited(self) -> tuple[str, int] | None:
        for name, process in self.children.items():
            if process.poll() is not None:
                return name, process.returncode
        return None

    def _signal_groups(self, sig: int) -> None:
        for process in self.children.values():
            try:
                os.killpg(process.pid, sig)  # the group outlives a dead leader's pool processes
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self, timeout: float = 20.0) -> None:
        self._signal_groups(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in self.children.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"The {name} process did not stop within {timeout:.0f}s; killing it.")
        self._signal_groups(signal.SIGKILL)  # stragglers of any group, leader gone or not
        for process in self.children.values():
            process.wait()
        for reader in self.readers:
            reader.join(timeout=2)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def wait_until_listening(port: int, processes: Processes, stopping: threading.Event,
                         timeout: float = 120.0) -> bool:
    """Wait for the web server to accept connections, or a child to die, or a stop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping.is_set() and not processes.first_exited():
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-seed", action="store_true", help="start without seeding")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if port_in_use(HOST, args.port):
        say(port_in_use_message(args.port))
        return 2

    say("Database: " + ("DATABASE_URL" if env.get("DATABASE_URL") else "SQLite, var/shop.sqlite3")
        + "; Redis: " + ("REDIS_URL" if env.get("REDIS_URL") else "embedded, var/redis/redis.sock"))
    embedded_redis = not env.get("REDIS_URL")
    processes = Processes(env)
    stopping = threading.Event()

    def request_stop(signum, frame):  # noqa: ARG001 - signal handler signature
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, request_stop)
    status = 0
    try:
        # migrate and seed share our process group: a Ctrl-C reaches them and ends setup.
        for label, step in [
            ("Migrating the database (a few minutes the first time)…", ["migrate", "--noinput", "-v", "0"]),
            *([] if args.no_seed else [
                (f"Seeding the demo store (seed {args.seed}; nothing to do if it is already seeded)…",
                 ["shop_seed_demo", "--seed", str(args.seed)]),
                # What the worker, beat and consumer would do over the next hours, done now so
                # that profiles, scores and recommendations are there from the first page.
                ("Storing the seeded behaviour (tracked events)…", ["tracking_consume", "--until-idle", "-v", "0"]),
                ("Building customer profiles…", ["ecrm_rebuild_profiles", "-v", "0"]),
                ("Scoring customers (RFM, lifetime value)…", ["ecrm_refresh_scores", "-v", "0"]),
                ("Training the recommender (first start only)…",
                 ["recommender_train", "--if-none-serving", "-v", "0"]),
            ]),
        ]:
            say(label)
            started = time.monotonic()
            subprocess.run([PY, "manage.py", *step], cwd=ROOT, env=env, check=True)
            say(f"  done in {time.monotonic() - started:.1f}s")
            if stopping.is_set():
                return 130
        for name, command in commands(args.port).items():
            processes.start(name, command)
        if wait_until_listening(args.port, processes, stopping):
            print(banner(args.port), flush=True)
        while not stopping.wait(0.5):
            exited = processes.first_exited()
            if exited:
                name, code = exited
                say(f"The {name} process stopped unexpectedly ({describe_exit(code)}); stopping the rest.")
                status = 1
                break
    except subprocess.CalledProcessError as exc:
        if stopping.is_set():
            say("Interrupted.")
            status = 130
        else:
            say(f"Setup failed: {' '.join(map(str, exc.cmd[1:]))} exited with status {exc.returncode}.")
            status = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, request_stop)  # a second Ctrl-C must not cut the clean-up short
        say("Stopping…")
        processes.stop()
        if embedded_redis:
            sys.path.insert(0, str(ROOT))
            from shop.embedded_redis import stop

            if stop(ROOT):
                say("Stopped the embedded Redis.")
        say("Stopped.")
    return status


if __name__ == "__main__":
    sys.exit(main())
