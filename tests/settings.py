"""Settings for the test suite: the store's own settings with test-safe defaults.

Only what the environment has not set is defaulted here, so ``make test`` can
still point the suite at real PostgreSQL and Redis through ``DATABASE_URL``
and ``REDIS_URL``. Tests run with DEBUG off (as pytest-django forces) and talk
plain HTTP to the test client and the live server.
"""

import os
import uuid

TEST_ENVIRONMENT = {
    "SECRET_KEY": "test-only-secret-key-not-for-production-use-0123456789",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    # The cache is Redis database 1 whatever REDIS_URL's database, so every run on one server
    # shares it: a run's own key prefix keeps out another run's keys (Wagtail's site root
    # paths, sorl's thumbnails, sessions) holding another test database's ids. Workers the
    # tests start inherit it through the environment.
    "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
    # Likewise the recommender's keys, for tests that are not ``isolated`` (and the workers
    # they start): never another run's versions, exposures, or an experiment it left running.
    "RECOMMENDER_TEST_REDIS_PREFIX": f"test-reco-run-{uuid.uuid4().hex[:8]}",
}
for _name, _value in TEST_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

from shop.settings import *  # noqa: E402,F401,F403

RECOMMENDER_REDIS_PREFIX = os.environ["RECOMMENDER_TEST_REDIS_PREFIX"]
# Fast password hashing: the suite creates many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CAMPAIGNS_SMS_BACKEND = "campaigns.sms.backends.locmem.SmsBackend"  # campaigns.sms.outbox
# Tests create and revoke keys and expect the next request to see it.
TRACKING_WRITE_KEY_CACHE_SECONDS = 0
# No collectstatic before tests: serve static names as they are.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

# A private search index per test run (tests create and delete products freely).
HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": tempfile.mkdtemp(prefix="test-whoosh-"),
    },
}
atexit.register(shutil.rmtree, HAYSTACK_CONNECTIONS["default"]["PATH"], ignore_errors=True)
