"""Settings of the Celery workers the campaigns tests start: the test settings, a mail
backend that writes to a folder, and the test's private queue."""

import os

from tests.settings import *  # noqa: F401,F403

EMAIL_BACKEND = "tests.campaigns.mail.FolderBackend"
CAMPAIGNS_QUEUE = os.environ.get("CAMPAIGNS_TEST_QUEUE")
# The flow tests' trigger kinds, for workers that run the beat tick (campaigns.tasks.tick).
CAMPAIGNS_TRIGGER_MODULES = ["tests.campaigns.flow_triggers"]
# Workers deliver at the wall clock, so the default quiet hours (21:00-08:00 London) would hold
# every marketing message sent by a test run in the evening; quiet hours are tested in process
# at fixed moments (tests/campaigns/test_deliverability.py).
CAMPAIGNS_QUIET_HOURS = None
