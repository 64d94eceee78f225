"""Read the store's configuration from the environment.

Every value the deployment changes (database, Redis, secrets, hosts, e-mail)
comes from an environment variable, so one code base runs the embedded demo
and production. Errors are raised as ``ImproperlyConfigured`` with a message
that says which variable is wrong and what a good value looks like.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}

DATABASE_URL_EXAMPLES = (
    "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:////absolute/path/db.sqlite3"
)
SUPPORTED_DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def http_url(name: str) -> str:
    """The environment's ``name`` as an http(s) URL with a host, or ImproperlyConfigured."""
    url = env_str(name).strip()
    parts = urlsplit(url)
    try:
        parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={url!r} is malformed ({exc}).") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name}={url!r} is malformed: expected http://HOST:PORT (or https://).")
    return url


def database_from_url(url: str, *, variable: str = "DATABASE_URL") -> dict:
    """Parse a database URL into a Django ``DATABASES`` entry, or explain why not."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        if scheme not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(
                f"unsupported scheme {parts.scheme!r} (supported: postgres, sqlite)"
            )
        if scheme != "sqlite":
            if not parts.hostname and "host=" not in parts.query:
                raise ValueError("no host given")
            parts.port  # raises ValueError for a non-numeric or out-of-range port
            if not parts.path.strip("/"):
                raise ValueError("no database name given")
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{variable} is malformed ({exc}). Expected {DATABASE_URL_EXAMPLES}."
        ) from None
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
    return config


def database_settings(base_dir: Path) -> dict:
    """The ``default`` database: ``DATABASE_URL`` or a SQLite file under ``var/``."""
    url = env_str("DATABASE_URL").strip()
    if url:
        config = database_from_url(url)
    else:
        var = base_dir / "var"
        var.mkdir(exist_ok=True)
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(var / "shop.sqlite3"),
            "OPTIONS": {
                # WAL lets the web server, the worker and beat read while one writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        }
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A file-backed test database so that ``pytest --reuse-db`` really reuses it.
        config.setdefault("TEST", {})["NAME"] = str(
            Path(config["NAME"]).with_name("test_" + Path(config["NAME"]).name)
        )
    return config


def redis_url(base_dir: Path) -> tuple[str, bool]:
    """Return ``(url, embedded)``: ``REDIS_URL`` or the embedded server's socket."""
    url = env_str("REDIS_URL").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in {"redis", "rediss", "unix"}:
            raise ImproperlyConfigured(
                f"REDIS_URL={url!r} is malformed: expected redis://HOST:6379/0 "
                "(or rediss:// for TLS)."
            )
        try:
            parts.port
        except ValueError as exc:
            raise ImproperlyConfigured(f"REDIS_URL is malformed ({exc}).") from None
        return url, False
    from shop.embedded_redis import socket_path

    return f"unix://{socket_path(base_dir)}", True


def celery_url(url: str, db: int) -> str:
    """Kombu names unix sockets ``redis+socket://``; redis-py names them ``unix://``."""
    if url.startswith("unix://"):
        return f"redis+socket://{url[len('unix://'):]}?virtual_host={db}"
    return url


def cache_url(url: str, db: int) -> str:
    """The same server as ``url`` but the logical database ``db``."""
    if url.startswith("unix://"):
        return f"{url}?db={db}"
    parts = urlsplit(url)
    return parts._replace(path=f"/{db}").geturl()
