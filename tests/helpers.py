"""Helpers for tests that start real processes (workers, consumers) on the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import connection


def database_url() -> str:
    """The test database, as a URL a subprocess can use."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "tests.settings"}


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def place_order(*products, quantity: int = 1, placed_at=None, **order_kwargs):
    """An Oscar order of ``products`` (``quantity`` each), placed through Oscar's own
    OrderCreator by ``oscar.test.factories.create_order`` (so ``order_placed`` is sent),
    and dated ``placed_at`` when given. ``order_kwargs``: user, guest_email, number, ..."""
    from oscar.test.factories import create_basket, create_order

    basket = create_basket(empty=True)
    for product in products:
        basket.add_product(product, quantity=quantity)
    order = create_order(basket=basket, **order_kwargs)
    if placed_at is not None:
        order.date_placed = placed_at
        order.save()
    return order


def fetch_deferred(client, html: str) -> dict[str, str]:
    """What ``recommender/deferred.js`` does for a shared page: ask each endpoint named by the
    page's ``data-ecrm-deferred-url`` markers for their keys; returns {key: the visitor's html}."""
    import html as html_module
    import re
    from urllib.parse import urlencode

    wanted: dict[str, list[str]] = {}
    for url, key in re.findall(r'data-ecrm-deferred-url="([^"]*)" data-ecrm-deferred="([^"]*)"', html):
        wanted.setdefault(html_module.unescape(url), []).append(html_module.unescape(key))
    fragments = {}
    for url, keys in wanted.items():
        response = client.get(url + ("&" if "?" in url else "?") + urlencode([("f", key) for key in keys]))
        assert response.status_code == 200, response.content
        fragments.update(response.json()["fragments"])
    return fragments


def celery_worker_start(queue: str, env: dict | None = None) -> subprocess.Popen:
    """A real Celery worker (solo pool, its own node name) on ``queue``, reading the test
    database; stop it with :func:`processes_stop`."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool=solo", "--loglevel=INFO", "-Q", queue,
         "--without-gossip", "--without-mingle", "-n", f"{uuid.uuid4().hex[:6]}@%h"],
        cwd=Path(__file__).resolve().parents[1], env=env or subprocess_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def processes_stop(processes) -> None:
    """Terminate the processes (killed if they do not stop within 20 s); print the output of
    any that logged a traceback, so a failing test shows why."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        if output and "Traceback" in output:
            print(output)
