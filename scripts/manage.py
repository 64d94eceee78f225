"""Run one ``manage.py`` command the way the Makefile's targets do.

    python scripts/manage.py migrate --noinput

DEBUG defaults to 1 (the embedded demo settings). Without REDIS_URL, Django
starts the embedded Redis on first use (shop/apps.py); this wrapper stops it
again afterwards unless it was already running (a demo in another terminal),
so ``make migrate`` or ``make seed`` leave no server behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    embedded = not env.get("REDIS_URL", "").strip()
    if embedded:
        sys.path.insert(0, str(ROOT))
        from shop.embedded_redis import is_running, stop

        was_running = is_running(ROOT)
    try:
        return subprocess.call([sys.executable, "manage.py", *argv], cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        if embedded and not was_running:
            stop(ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
