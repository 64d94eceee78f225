"""The pieces of ``scripts/demo.py`` (what ``make demo`` runs) that need no server."""

import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from scripts import demo


def test_urls_name_the_four_entry_points():
    assert demo.urls(8123) == [
        ("Store", "http://127.0.0.1:8123/"),
        ("Oscar dashboard", "http://127.0.0.1:8123/dashboard/"),
        ("Wagtail admin", "http://127.0.0.1:8123/cms/"),
        ("Django admin", "http://127.0.0.1:8123/django-admin/"),
    ]


def test_banner_prints_urls_and_staff_logins():
    text = demo.banner(8123)
    assert "http://127.0.0.1:8123/cms/" in text
    assert "admin@example.com" in text and "oscar-admin-demo" in text
    assert "Ctrl-C" in text


def test_a_listening_port_is_reported_in_use_with_its_owner():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.listen()
        assert demo.port_in_use("127.0.0.1", port)
        message = demo.port_in_use_message(port)
        assert f"Port {port}" in message and f"make demo PORT={port + 1}" in message
    assert not demo.port_in_use("127.0.0.1", port)


def test_demo_refuses_a_busy_port_with_a_clear_message(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert demo.main(["--no-seed", "--port", str(sock.getsockname()[1])]) == 2
    assert "already in use" in capsys.readouterr().out


def test_worker_and_beat_are_real_celery_processes():
    commands = demo.commands(8123)
    assert set(commands) == {"web", "worker", "catchup", "beat", "events"}
    assert commands["worker"][2:6] == ["celery", "-A", "shop", "worker"]
    assert commands["beat"][2:6] == ["celery", "-A", "shop", "beat"]
    # The consumers' catch-up work: its own queue, one process at the lowest CPU priority.
    catchup = commands["catchup"]
    assert catchup[:3] == ["nice", "-n", "19"] and catchup[5:9] == ["celery", "-A", "shop", "worker"]
    assert catchup[catchup.index("-Q") + 1] == "background" and catchup[catchup.index("--concurrency") + 1] == "1"
    assert commands["worker"][commands["worker"].index("-Q") + 1] == "celery"
    assert "127.0.0.1:8123" in commands["web"]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_stop_ends_each_process_group_including_grandchildren():
    processes = demo.Processes(env=None)
    # A parent that ignores SIGTERM and leaves a child of its own behind.
    processes.start("stubborn", [
        sys.executable, "-c",
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print('ready', flush=True); time.sleep(60)",
    ])
    processes.start("quits", [sys.executable, "-c", "raise SystemExit(3)"])
    leader = psutil.Process(processes.children["stubborn"].pid)
    deadline = time.monotonic() + 10
    while not leader.children() and time.monotonic() < deadline:
        time.sleep(0.05)
    family = [leader, *leader.children(recursive=True)]
    assert len(family) == 2
    while processes.first_exited() is None:
        time.sleep(0.05)
    assert processes.first_exited() == ("quits", 3)

    processes.stop(timeout=1)

    deadline = time.monotonic() + 5
    while [p for p in family if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in family if _alive(p)]
    assert processes.children["stubborn"].returncode == -signal.SIGKILL


def test_exit_descriptions_name_the_signal():
    assert demo.describe_exit(3) == "exit status 3"
    assert demo.describe_exit(-9) == "killed by SIGKILL"


@pytest.mark.parametrize("argv", [["--port", "not-a-number"]])
def test_bad_arguments_are_refused(argv):
    with pytest.raises(SystemExit):
        demo.main(argv)


def test_the_script_runs_from_a_shell():
    result = subprocess.run([sys.executable, "scripts/demo.py", "--help"], cwd=demo.ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--no-seed" in result.stdout
