"""Settings for benchmarks: the store's settings, DEBUG off, plain HTTP, no manifest."""

import os

for _name, _value in {
    "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)

from shop.settings import *  # noqa: E402,F401,F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The lean baseline sits where the tracking API's middleware sits (bench/middleware.py).
_api = MIDDLEWARE.index("tracking.api.middleware.TrackingApiMiddleware")  # noqa: F405
MIDDLEWARE = [*MIDDLEWARE[:_api], "bench.middleware.LeanBareJsonMiddleware", *MIDDLEWARE[_api:]]  # noqa: F405

TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]  # noqa: F405

# Benchmark traffic goes to its own stream, deleted afterwards, never to the store's.
TRACKING_STREAM = "bench:tracking:events"
