"""Run a command (the test suite) against real PostgreSQL and Redis.

    python scripts/test_services.py -- python -m pytest [ARGS]

Where the servers come from, in order:

1. ``TEST_DATABASE_URL`` / ``REDIS_URL`` from the environment, when set;
2. otherwise throwaway servers started on loopback in a temporary directory,
   when the PostgreSQL server binaries (Debian: /usr/lib/postgresql/*/bin)
   and ``redis-server`` are installed; they are stopped and removed after
   the run, whatever its outcome;
3. otherwise SQLite and the embedded Redis, with a loud warning.

The command's exit status is passed through.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_USER = "ecrm_test"


def say(message: str) -> None:
    print(f"[test-services] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing is listening on 127.0.0.1:{port} after {timeout:.0f}s")


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, if any."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def throwaway_postgres(bindir: Path):
    """A PostgreSQL server in a temporary directory; yields its URL (database ``postgres``)."""
    tmp = Path(tempfile.mkdtemp(prefix="ecrm-pg-"))
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError("running as root but there is no 'postgres' user") from None
        os.chown(tmp, entry.pw_uid, entry.pw_gid)
    data = tmp / "data"
    port = free_port()
    started = False
    try:
        subprocess.run(
            _as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", PG_USER,
                             "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={tmp} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
            "-c max_connections=100 -c shared_buffers=128MB"
        )
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                             "-l", str(tmp / "server.log"), "-w", "-t", "60", "start"]),
            check=True, stdout=subprocess.DEVNULL, cwd=tmp,
        )
        started = True
        wait_for_port(port)
        yield f"postgres://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "-w", "stop"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
            )
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def throwaway_redis(binary: str):
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def embedded_redis_url() -> str:
    sys.path.insert(0, str(ROOT))
    from shop.embedded_redis import ensure_running

    return f"unix://{ensure_running(ROOT)}"


def run(command: list[str]) -> int:
    env = dict(os.environ)
    with ExitStack() as stack:
        database_url = os.environ.get("TEST_DATABASE_URL", "").strip()
        redis_url = os.environ.get("REDIS_URL", "").strip()
        if database_url:
            say("PostgreSQL from TEST_DATABASE_URL")
        elif (bindir := postgres_bindir()) is not None:
            database_url = stack.enter_context(throwaway_postgres(bindir))
            say(f"started a throwaway PostgreSQL ({bindir.parent.name}) at {database_url}")
        if redis_url:
            say("Redis from REDIS_URL")
        elif (binary := shutil.which("redis-server")) is not None:
            redis_url = stack.enter_context(throwaway_redis(binary))
            say(f"started a throwaway Redis at {redis_url}")
        if not database_url or not redis_url:
            bar = "!" * 78
            missing = " and ".join(
                name for name, url in (("PostgreSQL", database_url), ("Redis", redis_url)) if not url
            )
            say(bar)
            say(f"NO REAL {missing.upper()}: falling back to "
                + ("SQLite" if not database_url else "") + (" and " if not database_url and not redis_url else "")
                + ("the embedded Redis" if not redis_url else "") + ".")
            say("Install Debian's postgresql and redis-server (or set TEST_DATABASE_URL/REDIS_URL)")
            say("to test against the servers production uses.")
            say(bar)
            if not redis_url:
                redis_url = embedded_redis_url()
        if database_url:
            env["DATABASE_URL"] = database_url
            env["TEST_EXPECT_POSTGRES"] = "1"
        else:
            env.pop("DATABASE_URL", None)
        env["REDIS_URL"] = redis_url
        process = subprocess.Popen(command, env=env, cwd=ROOT)
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)
            return process.wait()


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return run(argv)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        say(f"could not start the test services: {exc} {detail.decode(errors='replace').strip()}")
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
